#!/usr/bin/env bash
# Benchmark: seconds from `git push` start to the first 200 of the new version through the router,
# for the static fixture, pushed ROUNDS times with a small change each time. Starts its own platform
# (router + controller) on spare loopback ports with a throwaway data directory, so it never touches
# a running `make run`. Needs the solution built (make build) and set-up done (deploy/setup.sh).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CONFIGURATION=${CONFIGURATION:-Release}
ROUNDS=${ROUNDS:-5}
WORK=$(mktemp -d /tmp/paas-bench.XXXXXX)
API_PORT=${BENCH_API_PORT:-18090}
ROUTER_PORT=${BENCH_ROUTER_PORT:-18080}
ADMIN_PORT=${BENCH_ADMIN_PORT:-18081}
PREFIX="bench-$$:"

export PAAS_DATA_DIR=$WORK/data PAAS_API_PORT=$API_PORT PAAS_API_BIND=127.0.0.1 PAAS_API_URL=http://127.0.0.1:$API_PORT
export PAAS_ROUTER_PORT=$ROUTER_PORT PAAS_ROUTER_BIND=127.0.0.1 PAAS_ROUTER_ADMIN_PORT=$ADMIN_PORT
export PAAS_ROUTER_ADMIN_URL=http://127.0.0.1:$ADMIN_PORT PAAS_REDIS_PREFIX=$PREFIX PAAS_BUILDPACKS_DIR=$ROOT/buildpacks
export HOME=$WORK/home GIT_TERMINAL_PROMPT=0
mkdir -p "$HOME" "$PAAS_DATA_DIR"

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  platform=$(sed -n 's/^Paas controller \([a-z0-9]*\) is serving.*/\1/p' "$WORK/controller.log" 2>/dev/null | head -n 1)
  if [ -n "$platform" ]; then
    docker ps -aq --filter "label=paas.platform=$platform" | xargs -r docker rm -f >/dev/null
    docker images -q --filter "label=paas.platform=$platform" | sort -u | xargs -r docker rmi -f >/dev/null 2>&1 || true
  fi
  redis-cli --scan --pattern "$PREFIX*" | xargs -r redis-cli del >/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

bin() { echo "$ROOT/$1/bin/$CONFIGURATION/net10.0/$2.dll"; }
dotnet "$(bin router/Paas.Router Paas.Router)" >"$WORK/router.log" 2>&1 & pids+=($!)
dotnet "$(bin src/Paas.Controller Paas.Controller)" >"$WORK/controller.log" 2>&1 & pids+=($!)
for _ in $(seq 1 300); do
  curl -fsS "http://127.0.0.1:$API_PORT/healthz" >/dev/null 2>&1 && curl -fsS "http://127.0.0.1:$ADMIN_PORT/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
paas() { dotnet "$(bin src/Paas.Cli paas)" "$@"; }

app=bench-$$
work=$WORK/app
cp -r "$ROOT/tests/fixtures/apps/static" "$work"
cd "$work"
git init -q -b main && git add -A && git -c user.name=b -c user.email=b@b commit -qm v0
paas apps:create "$app" >/dev/null
paas git:remote "$app" >/dev/null
echo "==> warm-up push (not counted)"
git push -q paas main >/dev/null 2>&1

now() { date +%s.%N; }
times=()
for round in $(seq 1 "$ROUNDS"); do
  marker="bench round $round $RANDOM"
  printf '<h1>%s</h1>\n' "$marker" > index.html
  git -c user.name=b -c user.email=b@b commit -qam "round $round"
  start=$(now)
  git push -q paas main >"$WORK/push.log" 2>&1 || { cat "$WORK/push.log"; exit 1; }
  pushed=$(now)
  for _ in $(seq 1 500); do
    body=$(curl -s -H "Host: $app.localhost" "http://127.0.0.1:$ROUTER_PORT/" || true)
    [[ $body == *"$marker"* ]] && break
    sleep 0.01
  done
  served=$(now)
  t=$(awk -v a="$start" -v b="$served" 'BEGIN {printf "%.3f", b - a}')
  times+=("$t")
  printf 'round %d: push returned after %.2f s, new version served after %.2f s\n' "$round" "$(awk -v a="$start" -v b="$pushed" 'BEGIN {print b - a}')" "$t"
done
median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}')
printf 'median push-to-serving: %.2f s over %d rounds (goal: 5 s or less)\n' "$median" "$ROUNDS"
grep -E "Released|Deployed" "$WORK/controller.log" | tail -3 || true
