#!/usr/bin/env bash
# Benchmark for convergence (issue 19), on three cell agents sharing this machine's engine. Prints the
# median of ROUNDS (default 3) of:
#   1. seconds from `paas ps:scale web=20` (from 0) to 20 instances healthy and routed   (goal: 10 s or less)
#   2. seconds from `docker kill` of an instance to its replacement in the router's table, with the GETs
#      through the router that failed meanwhile                                       (goal: 1 s, 0 failed)
# then once: 3. seconds from a cell's loss to its instances serving elsewhere (goal: 10 s), and (unless
# CONV_QUICK=1) 4. failed requests through the router during a rolling deploy at load (goal: 0), and
# 5. the controller's full convergence pass at 1,000 apps x 3 instances in the simulation (Paas.Controller.Benchmark).
# BENCH_ROOT=/other/checkout measures that checkout's build with this script (before/after tables).
# Timing runs in lib/convergence.py: one process polls the router's admin table every 20 ms.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/platform.sh
source "$HERE/lib/platform.sh"
ROUNDS=${ROUNDS:-3}
# CONV_LOGS=DIR keeps the platform's logs there (they go with $WORK otherwise).
trap '[ -z "${CONV_LOGS:-}" ] || cp "$WORK"/*.log "$CONV_LOGS"/ 2>/dev/null || true; stop_platform' EXIT
export PAAS_CELL_LOST_SECONDS=${PAAS_CELL_LOST_SECONDS:-5}
start_platform cell-a:zone-1:8192 cell-b:zone-2:8192 cell-c:zone-3:8192

app=conv-$$
host=$app.localhost
echo "==> pushing the python fixture"
new_app "$app" python
measure() { python3 "$HERE/lib/convergence.py" "$@"; }
field() { python3 -c "import json,sys; v=json.loads(sys.argv[1])[sys.argv[2]]; print('none' if v is None else (f'{v:.2f}' if isinstance(v,float) else v))" "$1" "$2"; }
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
instance_of() { paas ps -a "$app" --json | python3 -c "import json,sys; print([i for i in json.load(sys.stdin) if i['id']==sys.argv[1] and i['state']=='running'][0]['instance'])" "$1"; }

scales=(); kills=(); failed_total=0; requests_total=0
for round in $(seq 1 "$ROUNDS"); do
  echo "==> round $round: scale web=0, then web=20"
  paas ps:scale web=0 -a "$app" >/dev/null
  result=$(measure scale "$ADMIN_PORT" "$host" 20 dotnet "$(bin src/Paas.Cli paas)" ps:scale web=20:128M -a "$app")
  echo "    20 routed after $(field "$result" routed_s) s (the command returned after $(field "$result" returned_s) s, exit $(field "$result" exit))"
  scales+=("$(field "$result" routed_s)")

  # A different slot each round: a slot's second crash within a minute waits out the restart backoff (1 s).
  slot=web.$((round * 5 + 2))
  victim=$(instance_of "$slot")
  echo "==> round $round: docker kill $slot ($victim) under load"
  result=$(measure kill "$ADMIN_PORT" "$ROUTER_PORT" "$host" 20 "paas-$victim" "$victim")
  echo "    replacement routed after $(field "$result" serving_s) s; $(field "$result" failed) of $(field "$result" requests) GETs failed $(field "$result" codes)"
  kills+=("$(field "$result" serving_s)")
  failed_total=$((failed_total + $(field "$result" failed)))
  requests_total=$((requests_total + $(field "$result" requests)))
done

echo "==> lose cell-b (agent and its containers)"
start=$(now)
kill_cell cell-b
docker ps -aq --filter label=paas.cell=cell-b --filter "label=paas.app=$app" | xargs -r docker rm -f >/dev/null
for _ in $(seq 1 600); do
  paas ps -a "$app" --json | python3 -c "import json,sys; l=[i for i in json.load(sys.stdin) if i['state']=='running' and i['cell']!='cell-b']; sys.exit(0 if len(l)>=20 else 1)" &&
    [ "$(curl -s "http://127.0.0.1:$ADMIN_PORT/routes" | python3 -c "import json,sys; print(len(json.load(sys.stdin)['hosts'].get('$host',{}).get('endpoints',[])))")" -ge 20 ] && break
  sleep 0.1
done
lost_s=$(elapsed "$start")
echo "    instances of cell-b serving elsewhere after ${lost_s} s (includes the ${PAAS_CELL_LOST_SECONDS} s lost-cell timeout)"

rolling_failed=skipped
if [ "${CONV_QUICK:-0}" != 1 ]; then
  echo "==> rolling deploy of 4 instances under load"
  paas ps:scale web=4 -a "$app" >/dev/null
  cd "$WORK/$app"
  echo "# v2" >> app.py && git -c user.name=b -c user.email=b@b commit -qam v2
  ok=0; rolling_failed=0
  git push -q paas main >"$WORK/push2.log" 2>&1 &
  push=$!
  while kill -0 "$push" 2>/dev/null && ((ok + rolling_failed < 100000)); do
    if [ "$(get "$app")" = 200 ]; then ok=$((ok + 1)); else rolling_failed=$((rolling_failed + 1)); fi
  done
  wait "$push" || { cat "$WORK/push2.log"; exit 1; }
  echo "    $ok requests answered 200, $rolling_failed failed"
fi

pass_ms=n/a
incremental_ms=n/a
pass_bench=$(bin tests/benchmarks/Paas.Controller.Benchmark Paas.Controller.Benchmark)
if [ -f "$pass_bench" ]; then
  echo "==> the controller's pass at 1,000 apps x 3 instances, in the simulation"
  dotnet "$pass_bench" 1000 3 10 | tee "$WORK/pass.txt"
  pass_ms=$(awk '/full pass now, nothing changed/ {for (i = 1; i <= NF; i++) if ($i == "ms") print $(i - 1)}' "$WORK/pass.txt")
  incremental_ms=$(awk '/after: +incremental pass, one app scaled/ {for (i = 1; i <= NF; i++) if ($i == "ms") print $(i - 1)}' "$WORK/pass.txt")
fi

printf '\n%s, load average %s\n' "$(date -u +%FT%TZ)" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-55s %-22s %8s %8s\n' "measure" "rounds" "median" "goal"
printf '%-55s %-22s %8s %8s\n' "ps:scale web=0 -> 20: healthy and routed (s)" "${scales[*]}" "$(median "${scales[@]}")" "10"
printf '%-55s %-22s %8s %8s\n' "docker kill -> replacement routed (s)" "${kills[*]}" "$(median "${kills[@]}")" "1"
printf '%-55s %-22s %8s %8s\n' "GETs failed through the router meanwhile" "of $requests_total" "$failed_total" "0"
printf '%-55s %-22s %8s %8s\n' "cell lost -> its instances serving elsewhere (s)" "1 run" "$lost_s" "10"
printf '%-55s %-22s %8s %8s\n' "failed requests during a rolling deploy" "1 run" "$rolling_failed" "0"
printf '%-55s %-22s %8s %8s\n' "controller full pass, 1,000 apps x 3 (simulated; ms)" "median of 5" "$pass_ms" "-"
printf '%-55s %-22s %8s %8s\n' "controller pass over 1 changed app of 1,000 (ms)" "median of 5" "$incremental_ms" "-"
