#!/usr/bin/env bash
# The row users live with (not a timed test): the router exactly as `make run` starts it (access log on, to its
# log file; the per-request line in the app's own log on) in front of a real app instance the platform runs,
# beside nginx and HAProxy, access logs on, in front of the same instance. Each warmed for WARMUP seconds, then
# ROUNDS rounds of wrk with the order rotated; prints req/s, p50, p99 and CPU time per request of each proxy,
# and the ratios router/nginx (goal >= 1.0) and router/HAProxy (goal >= 1.1).
# Starts its own platform (tests/benchmarks/lib/platform.sh: spare ports, throwaway data dir), deploys the Node
# fixture, and reads the instance's address from the router's table. Installs wrk, nginx and haproxy if missing.
#   ROUNDS=3 DURATION=10 CONNECTIONS=32 WARMUP=15 tests/benchmarks/router/real-app.sh
set -euo pipefail

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-2}
WARMUP=${WARMUP:-15}

# shellcheck source=../lib/proxies.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/proxies.sh"
install_proxy_tools

# shellcheck source=../lib/platform.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/platform.sh"
# As make run has it: the access log on (deploy/run.sh sends stdout to the router's log file), app-log lines on.
export PAAS_ROUTER_ACCESS_LOG=stdout PAAS_ROUTER_APP_LOGS=on
start_platform

app=rowapp-$$
echo "==> deploying the Node fixture as $app"
new_app "$app" node
HOST="$app.localhost"
address=$(curl -s "http://127.0.0.1:$ADMIN_PORT/routes" | python3 -c '
import json, sys
endpoints = json.load(sys.stdin)["hosts"].get(sys.argv[1], {}).get("endpoints", [])
print(endpoints[0]["address"] if endpoints else "")' "$HOST")
[ -n "$address" ] || { echo "no route for $app in the router's table" >&2; exit 1; }
echo "    instance at $address"

NGINX_PORT=$(free_port); HAPROXY_PORT=$(free_port)
nginx_proxy_conf "$WORK/nginx" "$NGINX_PORT" "$address" "$HOST" "$(nproc)" "$WORK/nginx/access.log"
"$NGINX" -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" 2>/dev/null & PIDS+=($!)
haproxy_cfg "$WORK/haproxy.cfg" "$HAPROXY_PORT" "$address" "$HOST" "$(nproc)" on
"$HAPROXY" -f "$WORK/haproxy.cfg" -db >"$WORK/haproxy.log" 2>&1 & PIDS+=($!)
HAPROXY_PID=$!
for port in "$NGINX_PORT" "$HAPROXY_PORT"; do
  for _ in $(seq 1 100); do curl -sf -o /dev/null -H "Host: $HOST" "http://127.0.0.1:$port/" && break; sleep 0.1; done
done
# This run's router: the process listening on its port (other routers may run on the machine).
ROUTER_PID=$(ss -ltnpH "sport = :$ROUTER_PORT" | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2)
[ -n "$ROUTER_PID" ] || { echo "no process listens on the router's port $ROUTER_PORT" >&2; exit 1; }

pids_of() {
  case $1 in
    nginx) pgrep -P "$(cat "$WORK/nginx/nginx.pid")" ;;
    haproxy) echo "$HAPROXY_PID" ;;
    router) echo "$ROUTER_PID" ;;
  esac
}
run_wrk() { # name port
  local out pids c0 c1 rps p50 p99 requests us
  pids=$(pids_of "$1"); c0=$(cpu_ticks $pids)
  out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -H "Host: $HOST" "http://127.0.0.1:$2/")
  c1=$(cpu_ticks $pids)
  rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
  p50=$(to_ms "$(awk '$1=="50%" {print $2}' <<<"$out")")
  p99=$(to_ms "$(awk '$1=="99%" {print $2}' <<<"$out")")
  requests=$(awk '/requests in/ {print $1}' <<<"$out")
  us=$(awk -v c=$((c1 - c0)) -v r="$requests" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.1f", (r > 0 ? c / hz * 1e6 / r : 0) }')
  echo "$1 $rps $p50 $p99 $us" >>"$WORK/results"
  printf '   %-8s %9.0f req/s   p50 %7.3f ms   p99 %7.3f ms   cpu %6.1f us/req   load %5s %s\n' "$1" "$rps" "$p50" "$p99" "$us" \
    "$(cut -d' ' -f1 /proc/loadavg)" "$(awk '/Non-2xx|Socket errors/ {print}' <<<"$out" | tr '\n' ' ')"
}

targets=("router $ROUTER_PORT" "nginx $NGINX_PORT" "haproxy $HAPROXY_PORT")
echo "==> warm-up (${WARMUP}s each)"
for target in "${targets[@]}"; do
  read -r _ port <<<"$target"
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" -H "Host: $HOST" "http://127.0.0.1:$port/" >/dev/null
done
: >"$WORK/results"
for round in $(seq 1 "$ROUNDS"); do
  echo "==> round $round/$ROUNDS (wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s, through each to the same Node instance)"
  for i in 0 1 2; do
    read -r name port <<<"${targets[$(((i + round - 1) % 3))]}"
    run_wrk "$name" "$port"
  done
done

median() { results_median "$WORK/results" "$@"; }
echo "==> medians over $ROUNDS rounds"
for name in router nginx haproxy; do
  printf '   %-8s %9.0f req/s   p50 %7.3f ms   p99 %7.3f ms   cpu %6.1f us/req\n' "$name" "$(median "$name" 2)" "$(median "$name" 3)" "$(median "$name" 4)" "$(median "$name" 5)"
done
awk -v r="$(median router 2)" -v n="$(median nginx 2)" -v h="$(median haproxy 2)" -v rc="$(median router 5)" -v nc="$(median nginx 5)" -v hc="$(median haproxy 5)" 'BEGIN {
  printf "   router/nginx   %.2fx req/s (goal >= 1.0)   cpu/req %.2fx nginx'"'"'s\n", r/n, rc/nc
  printf "   router/haproxy %.2fx req/s (goal >= 1.1)   cpu/req %.2fx haproxy'"'"'s\n", r/h, rc/hc }'
echo "   access log lines: router $(grep -c '"status"' "$WORK/router.log" || true), nginx $(wc -l <"$WORK/nginx/access.log"), haproxy $(grep -c 'HTTP/1.1' "$WORK/haproxy.log" || true)"
