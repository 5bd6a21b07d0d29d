#!/usr/bin/env bash
# Cost of the latency histogram per app (issue 20), not a timed test. In one run on this machine the same
# router build is started twice against the same keep-alive nginx backend, once with the histogram per app
# (the default) and once without it (PAAS_ROUTER_APP_LATENCY=off), access log and app-log lines off in both,
# and driven with wrk in alternating order for ROUNDS rounds. Prints req/s, p50, p99 and CPU time per request
# of each (CPU per request swings much less than req/s on a shared 2-core box), and on/off ratios
# (goal: <= 3% cost). Uses its own Redis on a free loopback port; style and helpers as bench.sh.
#   ROUNDS=5 DURATION=10 CONNECTIONS=64 tests/benchmarks/router/latency-histogram.sh
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
WARMUP=${WARMUP:-15}
CONFIGURATION=${CONFIGURATION:-Release}
WORK=$(mktemp -d /tmp/paas-histogram-bench.XXXXXX)
PIDS=()

cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

# shellcheck source=../lib/proxies.sh
source "$ROOT/tests/benchmarks/lib/proxies.sh"
install_proxy_tools
command -v redis-server >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q redis-server >/dev/null

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 1 200); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done; echo "port $1 never opened" >&2; return 1; }

BACKEND_PORT=$(free_port); ON_PORT=$(free_port); ON_ADMIN=$(free_port); OFF_PORT=$(free_port); OFF_ADMIN=$(free_port); REDIS_PORT=$(free_port)
HOST=app.bench.test
PREFIX="bench:"

echo "==> building the router ($CONFIGURATION)"
dotnet build "$ROOT/router/Paas.Router" -c "$CONFIGURATION" -nologo -clp:ErrorsOnly >/dev/null
ROUTER_DLL=$ROOT/router/Paas.Router/bin/$CONFIGURATION/net10.0/Paas.Router.dll

mkdir -p "$WORK/backend"
cat >"$WORK/backend/nginx.conf" <<CONF
worker_processes 1; daemon off; pid $WORK/backend/nginx.pid; error_log stderr error;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000; keepalive_timeout 120s;
  server { listen 127.0.0.1:$BACKEND_PORT; location / { default_type text/plain; return 200 "hello, bench\n"; } } }
CONF
"$NGINX" -c "$WORK/backend/nginx.conf" -p "$WORK/backend" & PIDS+=($!)

redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no --dir "$WORK" --daemonize no >/dev/null & PIDS+=($!)
wait_port "$REDIS_PORT"
redis-cli -p "$REDIS_PORT" hset "${PREFIX}hosts" "$HOST" app >/dev/null
redis-cli -p "$REDIS_PORT" hset "${PREFIX}routes" app-web-1 "{\"instance\":\"app-web-1\",\"app\":\"app\",\"process\":\"web\",\"release\":1,\"address\":\"127.0.0.1:$BACKEND_PORT\"}" >/dev/null

start_router() { # PORT ADMIN HISTOGRAM(on|off)
  PAAS_ROUTER_APP_LATENCY=$3 PAAS_ROUTER_PORT=$1 PAAS_ROUTER_ADMIN_PORT=$2 PAAS_ROUTER_BIND=127.0.0.1 PAAS_ROUTER_TLS_PORT=0 \
  PAAS_ROUTER_ID="bench-$3" PAAS_REDIS="127.0.0.1:$REDIS_PORT" PAAS_REDIS_PREFIX=$PREFIX PAAS_ROUTER_ACCESS_LOG=off PAAS_ROUTER_APP_LOGS=off \
    dotnet "$ROUTER_DLL" >/dev/null 2>"$WORK/router-$3.err" & PIDS+=($!)
}
start_router "$ON_PORT" "$ON_ADMIN" on; ON_PID=$!
start_router "$OFF_PORT" "$OFF_ADMIN" off; OFF_PID=$!
wait_port "$BACKEND_PORT"; wait_port "$ON_ADMIN"; wait_port "$OFF_ADMIN"
for port in $ON_PORT $OFF_PORT; do
  for _ in $(seq 1 100); do curl -sf -o /dev/null -H "Host: $HOST" "http://127.0.0.1:$port/" && break; sleep 0.1; done
done

run_wrk() { # name port pid
  local out c0 c1 rps p50 p99 requests us
  c0=$(cpu_ticks "$3")
  out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -H "Host: $HOST" "http://127.0.0.1:$2/")
  c1=$(cpu_ticks "$3")
  rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
  p50=$(to_ms "$(awk '$1=="50%" {print $2}' <<<"$out")")
  p99=$(to_ms "$(awk '$1=="99%" {print $2}' <<<"$out")")
  requests=$(awk '/requests in/ {print $1}' <<<"$out")
  us=$(awk -v c=$((c1 - c0)) -v r="$requests" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.1f", (r > 0 ? c / hz * 1e6 / r : 0) }')
  echo "$1 $rps $p50 $p99 $us" >>"$WORK/results"
  printf '   %-14s %10.0f req/s   p50 %7.3f ms   p99 %7.3f ms   cpu %6.1f us/req   load %s\n' "$1" "$rps" "$p50" "$p99" "$us" "$(cut -d' ' -f1 /proc/loadavg)"
}

echo "==> warm-up (${WARMUP}s each)"
for port in $ON_PORT $OFF_PORT; do wrk -t"$THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" -H "Host: $HOST" "http://127.0.0.1:$port/" >/dev/null; done

: >"$WORK/results"
for round in $(seq 1 "$ROUNDS"); do
  echo "==> round $round/$ROUNDS (wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s)"
  if ((round % 2)); then run_wrk histogram-on "$ON_PORT" "$ON_PID"; run_wrk histogram-off "$OFF_PORT" "$OFF_PID"
  else run_wrk histogram-off "$OFF_PORT" "$OFF_PID"; run_wrk histogram-on "$ON_PORT" "$ON_PID"; fi
done

# The histogram really counted on one and not the other.
curl -s "http://127.0.0.1:$ON_ADMIN/metrics" | grep -q '^paas_router_app_request_duration_seconds_count{app="app"}' || { echo "histogram-on shows no per-app histogram" >&2; exit 1; }
if curl -s "http://127.0.0.1:$OFF_ADMIN/metrics" | grep -q '^paas_router_app_request_duration_seconds_count'; then echo "histogram-off still has one" >&2; exit 1; fi

echo "==> medians over $ROUNDS rounds"
median() { results_median "$WORK/results" "$@"; }
for name in histogram-on histogram-off; do
  printf '   %-14s %10.0f req/s   p50 %7.3f ms   p99 %7.3f ms   cpu %6.1f us/req\n' "$name" "$(median "$name" 2)" "$(median "$name" 3)" "$(median "$name" 4)" "$(median "$name" 5)"
done
awk -v on="$(median histogram-on 2)" -v off="$(median histogram-off 2)" -v onc="$(median histogram-on 5)" -v offc="$(median histogram-off 5)" 'BEGIN {
  printf "   on/off %.3fx req/s, cpu/req %.3fx (goal: cost <= 3%%)\n", on/off, onc/offc }'
