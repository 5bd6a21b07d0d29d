#!/usr/bin/env bash
# Benchmark for placement and convergence (issue 3), on three cell agents sharing this machine's engine:
#   1. seconds from `paas ps:scale web=20` to 20 healthy and routed instances   (goal: 10 s or less)
#   2. seconds from `docker kill` of an instance to its replacement serving     (goal: 1 s or less)
#   3. seconds from a cell's loss to its instances serving elsewhere            (goal: 10 s or less)
#   4. failed requests through the router during a rolling deploy at load      (goal: 0)
set -euo pipefail
# shellcheck source=lib/platform.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/platform.sh"
export PAAS_CELL_LOST_SECONDS=${PAAS_CELL_LOST_SECONDS:-6}
start_platform cell-a:zone-1:8192 cell-b:zone-2:8192 cell-c:zone-3:8192

app=conv-$$
echo "==> pushing the python fixture"
new_app "$app" python
count_routed() { curl -s "http://127.0.0.1:$ADMIN_PORT/routes" | python3 -c "import json,sys; t=json.load(sys.stdin); print(len(t['hosts'].get('$app.localhost',{}).get('endpoints',[])))"; }
ps_json() { paas ps -a "$app" --json; }

echo "==> 1. scale web=20"
start=$(now)
paas ps:scale web=20:128M -a "$app" >/dev/null
for _ in $(seq 1 600); do [ "$(count_routed)" -ge 20 ] && break; sleep 0.05; done
scale_s=$(elapsed "$start")
echo "    20 instances healthy and routed after ${scale_s} s ($(count_routed) routed)"

echo "==> 2. docker kill one instance"
victim=$(ps_json | python3 -c "import json,sys; print([i for i in json.load(sys.stdin) if i['id']=='web.7'][0]['instance'])")
start=$(now)
docker kill "paas-$victim" >/dev/null
for _ in $(seq 1 600); do
  ps_json | python3 -c "import json,sys; l=[i for i in json.load(sys.stdin) if i['id']=='web.7' and i['state']=='running' and i['instance']!='$victim']; sys.exit(0 if l else 1)" && break
  sleep 0.02
done
# serving = the replacement is in the router's table
for _ in $(seq 1 600); do [ "$(count_routed)" -ge 20 ] && break; sleep 0.02; done
kill_s=$(elapsed "$start")
echo "    replacement serving after ${kill_s} s"

echo "==> 3. lose cell-b (agent and its containers)"
start=$(now)
kill_cell cell-b
docker ps -aq --filter label=paas.cell=cell-b --filter "label=paas.app=$app" | xargs -r docker rm -f >/dev/null
for _ in $(seq 1 600); do
  ps_json | python3 -c "import json,sys; l=[i for i in json.load(sys.stdin) if i['state']=='running' and i['cell']!='cell-b']; sys.exit(0 if len(l)>=20 else 1)" && [ "$(count_routed)" -ge 20 ] && break
  sleep 0.1
done
lost_s=$(elapsed "$start")
echo "    instances of cell-b serving elsewhere after ${lost_s} s (includes the ${PAAS_CELL_LOST_SECONDS} s lost-cell timeout)"

echo "==> 4. rolling deploy under load"
paas ps:scale web=4 -a "$app" >/dev/null
cd "$WORK/$app"
echo "# v2" >> app.py && git -c user.name=b -c user.email=b@b commit -qam v2
ok=0; failed=0
git push -q paas main >"$WORK/push2.log" 2>&1 &
push=$!
while kill -0 "$push" 2>/dev/null && ((ok + failed < 100000)); do
  code=$(get "$app")
  if [ "$code" = 200 ]; then ok=$((ok + 1)); else failed=$((failed + 1)); fi
done
wait "$push" || { cat "$WORK/push2.log"; exit 1; }
echo "    $ok requests answered 200, $failed failed during the rollout of 4 instances"

printf '\n%-55s %8s %8s\n' "measure" "seconds" "goal"
printf '%-55s %8s %8s\n' "ps:scale web=20 -> 20 healthy and routed" "$scale_s" "10"
printf '%-55s %8s %8s\n' "docker kill -> replacement serving" "$kill_s" "1"
printf '%-55s %8s %8s\n' "cell lost -> its instances serving elsewhere" "$lost_s" "10"
printf '%-55s %8s %8s\n' "failed requests during a rolling deploy" "$failed" "0"
