#!/usr/bin/env bash
# Benchmark: wall time of the first `git push` after the platform starts as `make run` starts it (deploy/run.sh:
# registry, router, one cell, controller; start_platform_supervised), for the static fixture, and when its
# release image's digest is stored (the push to the registry, with the stack layer the first time, runs on).
# On a single host the push must not wait for the registry: every instance runs on the cell that built the image.
# BENCH_ROOT=/other/checkout measures another build (before/after).
set -euo pipefail

# shellcheck source=lib/platform.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/platform.sh"
start_platform_supervised

app=first-$$
cp -r "$ROOT/tests/fixtures/apps/static" "$WORK/$app"
cd "$WORK/$app"
git init -q -b main && git add -A && git -c user.name=b -c user.email=b@b commit -qm v1
paas apps:create "$app" >/dev/null
paas git:remote "$app" >/dev/null
start=$(now)
git push paas main >"$WORK/push.log" 2>&1 || { cat "$WORK/push.log"; exit 1; }
pushed=$(now)
printf 'first git push returned after %.1f s\n' "$(awk -v a="$start" -v b="$pushed" 'BEGIN {print b - a}')"
grep -E "Released|registry" "$WORK/push.log" | sed 's/^/    /' || true
[ "$(get "$app")" = 200 ] || { echo "the app does not answer 200 through the router"; exit 1; }
for _ in $(seq 1 1200); do
  if paas releases:info v1 -a "$app" --json | grep -Eq '"registry_image": ?"[^"]'; then
    printf 'digest stored after %.1f s\n' "$(awk -v a="$start" -v b="$(now)" 'BEGIN {print b - a}')"
    exit 0
  fi
  sleep 0.5
done
echo "no registry digest on v1 after 600 s"
exit 1
