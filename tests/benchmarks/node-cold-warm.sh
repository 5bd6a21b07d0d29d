#!/usr/bin/env bash
# Benchmark: push-to-serving seconds for the Node.js fixture, cold (new app, empty build cache: npm
# downloads and installs) and warm (same dependencies, cache hit: node_modules restored, npm skipped).
# Each warm round changes server.js only. Starts its own platform (router, controller, one cell) on
# spare loopback ports with a throwaway data directory, so it never touches a running `make run`.
# Needs the solution built (make build), set-up done (deploy/setup.sh) and the npm registry reachable.
set -euo pipefail

ROUNDS=${ROUNDS:-3}
# shellcheck source=lib/platform.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/platform.sh"
start_platform

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
