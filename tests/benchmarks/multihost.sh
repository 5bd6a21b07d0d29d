#!/usr/bin/env bash
# Benchmark (a script, not a timed test) of cells on their own hosts. Hosts are network namespaces with their own
# dockerd on a bridge of this run's own (lib/testhosts.sh, as the multi-host end-to-end tests make them); the
# controller, router, a registry and a Redis with a password run on the main host, with a staging cell ("builder")
# on the main engine, as in the tests' MultiHostPlatform. Traffic stays on loopback and that bridge. Prints:
#   push->serving of the static fixture on one host (the builder's engine runs the instance: no registry round trip)
#     and across hosts (built on the main engine, pulled by digest on a host); goal: at most 1 s more
#   a first deploy on a fresh host without the stack image, and on one that pre-pulled it (PAAS_CELL_STACK_PREPULL)
#   seconds from a host's loss (link down, agent killed) to its instances serving from another host; goal <= 10 s
# Every wait is bounded. Needs root, the solution built (make build) and the host set up (deploy/setup.sh).
set -euo pipefail

ROUNDS=${ROUNDS:-3}
# shellcheck source=lib/platform.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/platform.sh"
# shellcheck source=lib/testhosts.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/testhosts.sh"
# The hosts first: stop_platform's `wait` would otherwise wait for their dockerds and agents (background jobs here).
trap 'testhosts_destroy; stop_platform' EXIT

testhosts_create
# Redis and the registry listen where hosts reach them too (the bridge's gateway), Redis with a password.
REDIS_PORT=$(free_port)
REDIS_PASSWORD=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
mkdir -p "$WORK/redis"
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 "$TH_GATEWAY" --requirepass "$REDIS_PASSWORD" --save '' --appendonly no \
  --dir "$WORK/redis" >"$WORK/redis.log" 2>&1 &
REDIS_PID=$!
export REDISCLI_AUTH=$REDIS_PASSWORD
for _ in $(seq 1 100); do [ "$(redis-cli -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ] && break; sleep 0.1; done
export PAAS_REDIS="127.0.0.1:$REDIS_PORT,password=$REDIS_PASSWORD"
start_registry 0.0.0.0
HOST_REGISTRY=$TH_GATEWAY:$REGISTRY_PORT
export PAAS_STAGING_CELL=builder

cell_field() { paas cells --json | python3 -c "import json,sys; print(next((c.get('$2') for c in json.load(sys.stdin) if c['name']=='$1'), ''))"; }

declare -A AGENTS=()
# start_host_agent N MEMORY_MB PREPULL: the cell agent of host N, in its network, on its engine.
start_host_agent() {
  local n=$1 address
  address=$(testhost_address "$n")
  mkdir -p "$WORK/hosts/h$n"
  # nsenter execs env, which execs dotnet: $! is the agent itself, for kill -9 (a function run with & would be a subshell).
  nsenter --net="/run/netns/$(testhost_name "$n")" -- env PAAS_CELL_NAME="h$n" PAAS_CELL_ZONE="zone-$n" PAAS_CELL_ADDRESS="$address" PAAS_CELL_PORT=8091 \
    PAAS_CELL_MEMORY_MB="$2" PAAS_CELL_STACK_PREPULL="$3" PAAS_CELL_SECRET="$(cat "$PAAS_DATA_DIR/cell-secret")" \
    DOCKER_HOST="$(testhost_docker "$n")" PAAS_DATA_DIR="$WORK/hosts/h$n" PAAS_REDIS="$TH_GATEWAY:$REDIS_PORT,password=$REDIS_PASSWORD" \
    PAAS_REGISTRY="$HOST_REGISTRY" dotnet "$(bin src/Paas.Cell Paas.Cell)" >"$WORK/cell-h$n.log" 2>&1 &
  AGENTS[$n]=$!
  wait_url "http://$address:8091/healthz"
  for _ in $(seq 1 100); do
    [ "$(cell_field "h$n" state)" = live ] && return 0
    sleep 0.1
  done
  echo "h$n did not register" >&2
  return 1
}

# create_app NAME: the static fixture's work tree and the app, not pushed yet.
create_app() {
  cp -r "$ROOT/tests/fixtures/apps/static" "$WORK/$1"
  (cd "$WORK/$1" && git init -q -b main && git add -A && git -c user.name=b -c user.email=b@b commit -qm v0 &&
    paas apps:create "$1" >/dev/null && paas git:remote "$1" >/dev/null)
}

# timed_push NAME: commits a new marker and pushes; prints seconds from the push's start to the first 200 with it.
timed_push() {
  local app=$1 marker start served=
  marker="bench $app $RANDOM$RANDOM"
  printf '<h1>%s</h1>\n' "$marker" >"$WORK/$app/index.html"
  git -C "$WORK/$app" -c user.name=b -c user.email=b@b commit -qam "$marker"
  start=$(now)
  git -C "$WORK/$app" push -q paas main >"$WORK/push-$app.log" 2>&1 &
  local pid=$!
  for _ in $(seq 1 3000); do
    [[ $(curl -s --max-time 2 -H "Host: $app.localhost" "http://127.0.0.1:$ROUTER_PORT/" || true) == *"$marker"* ]] && { served=$(now); break; }
    sleep 0.02
  done
  wait "$pid" || { cat "$WORK/push-$app.log" >&2; return 1; }
  [ -n "$served" ] || { echo "$app: the new version was not served" >&2; cat "$WORK/push-$app.log" >&2; return 1; }
  awk -v a="$start" -v b="$served" 'BEGIN {printf "%.2f", b - a}'
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

echo "==> platform: controller, router, registry, Redis, staging cell on the main engine; hosts on $TH_PREFIX$TH_ID"
start_platform builder:zone-0:16384

echo "==> push->serving on one host ($ROUNDS rounds after a first push)"
create_app one
timed_push one >/dev/null
one_host=$(for _ in $(seq 1 "$ROUNDS"); do timed_push one; echo; done | median)

# From here the builder stages only (1 MB: no instance fits); instances go to the hosts.
kill_cell builder
start_cell builder:zone-0:1

echo "==> h1: a fresh host without the stack image (room for one instance)"
testhost_add 1 "$HOST_REGISTRY"
start_host_agent 1 600 off
create_app fresh
cold=$(timed_push fresh)

echo "==> h2: a fresh host that pre-pulls the stack image when it joins"
testhost_add 2 "$HOST_REGISTRY"
start=$(now)
start_host_agent 2 16384 on
for _ in $(seq 1 1800); do
  state=$(cell_field h2 stack)
  [ "$state" = pulled ] && break
  [[ $state == failed* ]] && { echo "h2: $state" >&2; exit 1; }
  sleep 0.1
done
[ "$state" = pulled ] || { echo "h2 did not pull the stack: $state" >&2; exit 1; }
prepull=$(elapsed "$start")
create_app warm
warm=$(timed_push warm)

echo "==> push->serving across hosts ($ROUNDS rounds: built on the main engine, pulled by digest on h2)"
across=$(for _ in $(seq 1 "$ROUNDS"); do timed_push warm; echo; done | median)

echo "==> h3 joins; h2 is lost (link down, agent killed)"
testhost_add 3 "$HOST_REGISTRY"
start_host_agent 3 16384 on
for _ in $(seq 1 1800); do [ "$(cell_field h3 stack)" = pulled ] && break; sleep 0.1; done
marker=$(curl -s -H "Host: warm.localhost" "http://127.0.0.1:$ROUTER_PORT/")
start=$(now)
testhost_link 2 down
kill -9 "${AGENTS[2]}"
failed=0 recovered=
for _ in $(seq 1 1200); do
  body=$(curl -s --max-time 1 -H "Host: warm.localhost" "http://127.0.0.1:$ROUTER_PORT/" || true)
  if [ "$body" = "$marker" ]; then
    if paas ps -a warm --json | grep -q '"cell": "h3"'; then recovered=$(elapsed "$start"); break; fi
  else
    failed=$((failed + 1))
  fi
  sleep 0.05
done
lost=${recovered:-"not within 60 s"}

echo
printf 'push->serving, one host:        %s s (median of %d)\n' "$one_host" "$ROUNDS"
printf 'push->serving, across hosts:    %s s (median of %d; goal: at most 1 s more than one host)\n' "$across" "$ROUNDS"
printf 'first deploy, fresh host:       %s s without the stack, %s s with it pre-pulled (the pre-pull took %s s when it joined)\n' "$cold" "$warm" "$prepull"
printf 'host lost -> serving elsewhere: %s s (goal: 10 s or less; %d GETs failed meanwhile; PAAS_CELL_LOST_SECONDS=%s)\n' "$lost" "$failed" "${PAAS_CELL_LOST_SECONDS:-5}"
