#!/usr/bin/env bash
# Benchmark: seconds from `git push` start to the first 200 of the new version through the router, for the
# Dockerfile fixture (tests/fixtures/apps/dockerfile: FROM paas/stack, a RUN step, CMD) beside the static
# buildpack fixture, cold and warm. Cold: a new app's first push; for the Dockerfile one, a fresh RUN line ahead
# of every other step, so no layer comes from the engine's cache. Warm: a second push changing only the app's
# code (the Dockerfile's early layers come from the cache, the buildpack's cache directory is filled).
# Starts its own platform (router, controller, one cell) on spare loopback ports with a throwaway data
# directory, like push-to-serving.sh. Needs the solution built (make build) and set-up done (deploy/setup.sh).
set -euo pipefail

ROUNDS=${ROUNDS:-3}
# shellcheck source=lib/platform.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/platform.sh"
start_platform

# push_and_time APP MARKER: pushes the committed work tree of APP, prints seconds until the router serves MARKER.
push_and_time() {
  local app=$1 marker=$2 start served=
  cd "$WORK/$app"
  start=$(now)
  { git push -q paas main >"$WORK/push-$app.log" 2>&1; echo $? >"$WORK/push-$app.rc"; } &
  local push_pid=$!
  for _ in $(seq 1 6000); do
    body=$(curl -s --max-time 2 -H "Host: $app.localhost" "http://127.0.0.1:$ROUTER_PORT/" || true)
    if [[ $body == *"$marker"* ]]; then served=$(now); break; fi
    sleep 0.02
  done
  wait "$push_pid" || true
  [ "$(cat "$WORK/push-$app.rc")" = 0 ] || { cat "$WORK/push-$app.log" >&2; exit 1; }
  [ -n "$served" ] || { echo "$app: $marker was not served" >&2; cat "$WORK/push-$app.log" >&2; exit 1; }
  awk -v a="$start" -v b="$served" 'BEGIN {printf "%.2f", b - a}'
}

# prepare APP FIXTURE: a work tree and an app, nothing pushed yet.
prepare() {
  local app=$1 fixture=$2
  cp -r "$ROOT/tests/fixtures/apps/$fixture" "$WORK/$app"
  (cd "$WORK/$app" && git init -q -b main && paas apps:create "$app" >/dev/null && paas git:remote "$app" >/dev/null)
}

commit() { git -C "$WORK/$1" add -A && git -C "$WORK/$1" -c user.name=b -c user.email=b@b commit -qm "$2"; }

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

static=bench-static-$$
docker=bench-docker-$$
prepare "$static" static
prepare "$docker" dockerfile
# A line no earlier build had, ahead of every step: the cold build shares no layer with any cached one.
sed -i "s|^ARG GREETING=unset|RUN echo cold-$$-$RANDOM > /tmp/cold\nARG GREETING=unset|" "$WORK/$docker/Dockerfile"

marker="static cold $RANDOM"; printf '<h1>%s</h1>\n' "$marker" > "$WORK/$static/index.html"; commit "$static" cold
static_cold=$(push_and_time "$static" "$marker")
marker="docker cold $RANDOM"; sed -i "s|^VERSION = .*|VERSION = \"$marker\"|" "$WORK/$docker/server.py"; commit "$docker" cold
docker_cold=$(push_and_time "$docker" "$marker")
echo "cold: static ${static_cold} s, dockerfile ${docker_cold} s"

static_warm=() docker_warm=()
for round in $(seq 1 "$ROUNDS"); do
  marker="static warm $round $RANDOM"; printf '<h1>%s</h1>\n' "$marker" > "$WORK/$static/index.html"; commit "$static" "r$round"
  static_warm+=("$(push_and_time "$static" "$marker")")
  marker="docker warm $round $RANDOM"; sed -i "s|^VERSION = .*|VERSION = \"$marker\"|" "$WORK/$docker/server.py"; commit "$docker" "r$round"
  docker_warm+=("$(push_and_time "$docker" "$marker")")
  echo "warm round $round: static ${static_warm[-1]} s, dockerfile ${docker_warm[-1]} s"
done
printf 'push-to-serving   cold      warm (median of %d)\n' "$ROUNDS"
printf 'static            %5.2f s   %5.2f s\n' "$static_cold" "$(median "${static_warm[@]}")"
printf 'dockerfile        %5.2f s   %5.2f s\n' "$docker_cold" "$(median "${docker_warm[@]}")"
