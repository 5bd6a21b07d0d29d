#!/usr/bin/env bash
# Benchmark: seconds from `git push` start to the first 200 of the new version through the router,
# for the static fixture, pushed ROUNDS times with a small change each time. Starts its own platform
# (router, controller, one cell) on spare loopback ports with a throwaway data directory, so it never touches
# a running `make run`. Needs the solution built (make build) and set-up done (deploy/setup.sh).
# The router is asked from the push's start on, so a version that serves before `git push` returns (the
# image push to a registry still running) counts when it serves. REGISTRY=1: with a registry of its own
# (start_registry), as a platform whose cells push release images for other hosts.
set -euo pipefail

ROUNDS=${ROUNDS:-5}
# shellcheck source=lib/platform.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/platform.sh"
[ "${REGISTRY:-0}" = 0 ] || start_registry
start_platform
if [ "${REGISTRY:-0}" != 0 ]; then
  # A controller that publishes the stack image pushes it at its first start: the rounds wait until the cell
  # has it (STACK pulled), so they do not share the machine with that one-time push (a build without
  # pre-pull reports no stack and does not wait).
  for _ in $(seq 1 600); do
    paas cells --json | grep -q '"stack": "\(waiting\|pulling\)"' || break
    sleep 0.5
  done
fi

app=bench-$$
echo "==> first push (not counted)"
new_app "$app" static
cd "$WORK/$app"

times=()
for round in $(seq 1 "$ROUNDS"); do
  marker="bench round $round $RANDOM"
  printf '<h1>%s</h1>\n' "$marker" > index.html
  git -c user.name=b -c user.email=b@b commit -qam "round $round"
  start=$(now)
  # The time it returned, written by the background job itself.
  { git push -q paas main >"$WORK/push.log" 2>&1; status=$?; now >"$WORK/pushed-at"; exit $status; } &
  push_pid=$!
  served=
  for _ in $(seq 1 3000); do
    body=$(curl -s --max-time 2 -H "Host: $app.localhost" "http://127.0.0.1:$ROUTER_PORT/" || true)
    if [[ $body == *"$marker"* ]]; then served=$(now); break; fi
    sleep 0.01
  done
  wait "$push_pid" || { cat "$WORK/push.log"; exit 1; }
  pushed=$(cat "$WORK/pushed-at")
  [ -n "$served" ] || { echo "round $round: the new version was not served"; cat "$WORK/push.log"; exit 1; }
  t=$(awk -v a="$start" -v b="$served" 'BEGIN {printf "%.3f", b - a}')
  times+=("$t")
  printf 'round %d: push returned after %.2f s, new version served after %.2f s\n' "$round" "$(awk -v a="$start" -v b="$pushed" 'BEGIN {print b - a}')" "$t"
done
median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}')
printf 'median push-to-serving: %.2f s over %d rounds (goal: 5 s or less)\n' "$median" "$ROUNDS"
grep -E "Released|Deployed" "$WORK/controller.log" | tail -3 || true
