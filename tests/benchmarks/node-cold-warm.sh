#!/usr/bin/env bash
# Benchmark: push-to-serving seconds for the Node.js fixture, cold (new app, empty build cache: npm
# downloads and installs) and warm (same dependencies, cache hit: node_modules restored, npm skipped).
# Each warm round changes server.js only. Starts its own platform (router, controller, one cell) on
# spare loopback ports with a throwaway data directory, so it never touches a running `make run`.
# Needs the solution built (make build), set-up done (deploy/setup.sh) and the npm registry reachable.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CONFIGURATION=${CONFIGURATION:-Release}
ROUNDS=${ROUNDS:-3}
WORK=$(mktemp -d /tmp/paas-bench-node.XXXXXX)
API_PORT=${BENCH_API_PORT:-18190}
ROUTER_PORT=${BENCH_ROUTER_PORT:-18180}
ADMIN_PORT=${BENCH_ADMIN_PORT:-18181}
CELL_PORT=${BENCH_CELL_PORT:-18182}
PREFIX="bench-node-$$:"

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
PAAS_CELL_NAME=bench-cell PAAS_CELL_PORT=$CELL_PORT dotnet "$(bin src/Paas.Cell Paas.Cell)" >"$WORK/cell.log" 2>&1 & pids+=($!)
for _ in $(seq 1 300); do
  curl -fsS "http://127.0.0.1:$API_PORT/healthz" >/dev/null 2>&1 && curl -fsS "http://127.0.0.1:$ADMIN_PORT/healthz" >/dev/null 2>&1 \
    && curl -fsS "http://127.0.0.1:$CELL_PORT/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
paas() { dotnet "$(bin src/Paas.Cli paas)" "$@"; }
for _ in $(seq 1 100); do paas cells --json 2>/dev/null | grep -q '"state": "live"' && break; sleep 0.1; done

now() { date +%s.%N; }
# push_and_time LABEL MARKER: pushes, waits (bounded) for MARKER in the response, prints seconds.
push_and_time() {
  local start pushed served body
  start=$(now)
  git push -q paas main >"$WORK/push.log" 2>&1 || { cat "$WORK/push.log"; exit 1; }
  pushed=$(now)
  for _ in $(seq 1 1000); do
    body=$(curl -s -H "Host: $app.localhost" "http://127.0.0.1:$ROUTER_PORT/" || true)
    [[ $body == *"$2"* ]] && break
    sleep 0.01
  done
  served=$(now)
  [[ $body == *"$2"* ]] || { echo "$1: new version never served"; exit 1; }
  printf '%s: push returned after %.2f s, new version served after %.2f s (%s)\n' "$1" \
    "$(awk -v a="$start" -v b="$pushed" 'BEGIN {print b - a}')" "$(awk -v a="$start" -v b="$served" 'BEGIN {print b - a}')" \
    "$(grep -oE 'Skipping npm ci|Running: npm ci' "$WORK/push.log" | head -n1)"
  last=$(awk -v a="$start" -v b="$served" 'BEGIN {printf "%.3f", b - a}')
}

app=node-bench-$$
work=$WORK/app
cp -r "$ROOT/tests/fixtures/apps/node" "$work"
cd "$work"
mark() { sed -i "s/Hello from node[^:]*:/Hello from node $1:/" server.js; }
mark cold
git init -q -b main && git add -A && git -c user.name=b -c user.email=b@b commit -qm cold
paas apps:create "$app" >/dev/null
paas git:remote "$app" >/dev/null
push_and_time "cold (empty cache)" "Hello from node cold:"
cold=$last
warm=()
for round in $(seq 1 "$ROUNDS"); do
  mark "warm$round"
  git -c user.name=b -c user.email=b@b commit -qam "warm $round"
  push_and_time "warm round $round (cache hit)" "Hello from node warm$round:"
  warm+=("$last")
done
median=$(printf '%s\n' "${warm[@]}" | sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}')
printf 'node push-to-serving: cold %.2f s, warm %.2f s (median of %d)\n' "$cold" "$median" "$ROUNDS"
