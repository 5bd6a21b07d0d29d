#!/usr/bin/env bash
# Benchmark: seconds from `paas addons:create postgresql` to the app's first successful query, through the
# router: the pgcount fixture (tests/fixtures/apps/pgcount) is pushed first without a database (it answers
# 503 "no DATABASE_URL"); the clock starts when addons:create starts and stops at the first "200 visits: 1",
# so it covers the server's start on its fresh volume (initdb), the config release that sets DATABASE_URL
# and its health-gated rollout. ROUNDS apps, one add-on each (destroyed after). Needs the solution built and
# the add-on image (deploy/addons/build.sh, run by deploy/setup.sh); starts its own throwaway platform.
set -euo pipefail

ROUNDS=${ROUNDS:-3}
# shellcheck source=lib/platform.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/platform.sh"
docker image inspect paas/addons:latest >/dev/null 2>&1 || { echo "paas/addons is missing: run deploy/addons/build.sh" >&2; exit 1; }
start_platform

times=()
for round in $(seq 1 "$ROUNDS"); do
  app=pgbench-$$-$round
  new_app "$app" pgcount
  start=$(now)
  paas addons:create postgresql -a "$app" >"$WORK/create.log" 2>&1 &
  create_pid=$!
  served=
  for _ in $(seq 1 1200); do
    body=$(curl -s -H "Host: $app.localhost" "http://127.0.0.1:$ROUTER_PORT/" || true)
    if [[ $body == "visits: 1" ]]; then
      served=$(elapsed "$start")
      break
    fi
    sleep 0.1
  done
  wait "$create_pid" || { cat "$WORK/create.log" >&2; exit 1; }
  [[ -n $served ]] || { echo "round $round: the app never counted a visit" >&2; exit 1; }
  echo "round $round: addons:create -> first query ${served}s ($(grep -o 'on cell [^;]*' "$WORK/create.log" | head -1))"
  times+=("$served")
  paas addons:destroy "postgresql" -a "$app" --confirm "$app" >/dev/null
done
median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}')
echo "==> addons:create postgresql -> first successful query: median ${median}s of $ROUNDS (${times[*]}); goal <= 15 s"
