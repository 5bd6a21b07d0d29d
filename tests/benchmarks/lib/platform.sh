# shellcheck shell=bash
# Sourced by the benchmark scripts: starts a throwaway platform (router, controller, cell agents) on
# spare loopback ports with its own data directory and Redis prefix, so it never touches a running
# `make run`, and removes everything it made on exit. Needs the solution built (make build) and the
# host set up (deploy/setup.sh).
#   start_platform NAME:ZONE:MEMORY_MB ...   one cell agent per argument (default: one cell)
#   paas ARGS...                             the CLI against this platform
#   kill_cell NAME                           kill a cell agent (its containers stay)
#   start_own_redis                          a Redis of this run's own (before start_*), which it may kill
#   start_redis / kill_redis                 (re)start it on the same port and directory (arguments go to
#                                            deploy/redis/start.sh) / SIGKILL it
#   start_platform_supervised                the platform as users run it: deploy/run.sh, one cell "local"
#   start_registry [BIND]                    a Docker Distribution registry of this run's own (before start_*),
#                                            with a password, on a spare port of BIND (default 127.0.0.1; the
#                                            main engine pushes at 127.0.0.1 either way); sets PAAS_REGISTRY*

# BENCH_ROOT runs another checkout's build with this script (a before/after comparison).
ROOT=${BENCH_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}
CONFIGURATION=${CONFIGURATION:-Release}
WORK=$(mktemp -d /tmp/paas-bench.XXXXXX)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# Spare ports, so several benchmark runs (or a test run) can share the machine.
API_PORT=${BENCH_API_PORT:-$(free_port)}
ROUTER_PORT=${BENCH_ROUTER_PORT:-$(free_port)}
ADMIN_PORT=${BENCH_ADMIN_PORT:-$(free_port)}
PREFIX="bench-$$:"
# The host's Redis (deploy/setup.sh), with its password if it has one; read before PAAS_DATA_DIR moves.
HOST_REDIS_DIR=${PAAS_DATA_DIR:-/var/lib/paas}/redis
export PAAS_REDIS=${PAAS_REDIS:-$("$ROOT/deploy/redis/connection.sh" "${PAAS_REDIS_PORT:-6379}" "$HOST_REDIS_DIR")}
if [ -s "$HOST_REDIS_DIR/password" ]; then
  REDISCLI_AUTH=$(cat "$HOST_REDIS_DIR/password")
  export REDISCLI_AUTH
fi

export PAAS_DATA_DIR=$WORK/data PAAS_API_PORT=$API_PORT PAAS_API_BIND=127.0.0.1 PAAS_API_URL=http://127.0.0.1:$API_PORT
export PAAS_ROUTER_PORT=$ROUTER_PORT PAAS_ROUTER_BIND=127.0.0.1 PAAS_ROUTER_ADMIN_PORT=$ADMIN_PORT PAAS_ROUTER_TLS_PORT=0
export PAAS_ROUTER_ACCESS_LOG=off
export PAAS_REDIS_PREFIX=$PREFIX PAAS_BUILDPACKS_DIR=$ROOT/buildpacks
export HOME=$WORK/home GIT_TERMINAL_PROMPT=0
mkdir -p "$HOME" "$PAAS_DATA_DIR"

declare -A CELL_PIDS=()
PIDS=()
REDIS_PORT=${PAAS_REDIS_PORT:-6379} # the Redis stop_platform cleans up
REDIS_PID=                           # set when this run owns its Redis
SUPERVISOR_PID=                      # set by start_platform_supervised

bin() { echo "$ROOT/$1/bin/$CONFIGURATION/net10.0/$2.dll"; }
paas() { dotnet "$(bin src/Paas.Cli paas)" "$@"; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN {printf "%.2f", b - a}'; }

wait_url() {
  for _ in $(seq 1 300); do
    curl -fsS "$1" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "$1 did not come up" >&2
  return 1
}

start_cell() {
  local name=${1%%:*} rest=${1#*:}
  local zone=${rest%%:*} memory=${rest#*:} port
  port=$(free_port)
  PAAS_CELL_NAME=$name PAAS_CELL_ZONE=$zone PAAS_CELL_MEMORY_MB=$memory PAAS_CELL_PORT=$port PAAS_CELL_HEARTBEAT_MS=500 \
    dotnet "$(bin src/Paas.Cell Paas.Cell)" >"$WORK/cell-$name.log" 2>&1 &
  CELL_PIDS[$name]=$!
  wait_url "http://127.0.0.1:$port/healthz"
}

kill_cell() {
  kill -9 "${CELL_PIDS[$1]}" 2>/dev/null || true
  unset "CELL_PIDS[$1]"
}

start_platform() {
  dotnet "$(bin router/Paas.Router Paas.Router)" >"$WORK/router.log" 2>&1 &
  PIDS+=($!)
  dotnet "$(bin src/Paas.Controller Paas.Controller)" >"$WORK/controller.log" 2>&1 &
  PIDS+=($!)
  wait_url "http://127.0.0.1:$ADMIN_PORT/healthz"
  wait_url "http://127.0.0.1:$API_PORT/healthz"
  local cells=("$@")
  ((${#cells[@]})) || cells=(bench-cell:zone-1:16384)
  for cell in "${cells[@]}"; do start_cell "$cell"; done
  for _ in $(seq 1 100); do
    [ "$(paas cells --json | grep -c '"state": "live"')" -ge "${#cells[@]}" ] && return 0
    sleep 0.1
  done
  echo "cells did not register" >&2
  return 1
}

# A Redis of this run's own, on a spare port with its directory in $WORK/redis and the platform's
# settings (deploy/redis/start.sh: append-only file), so a benchmark may SIGKILL it and start it again
# on the same files without touching the host's Redis. Call before start_platform*.
start_own_redis() {
  REDIS_PORT=$(free_port)
  unset REDISCLI_AUTH
  export PAAS_REDIS=127.0.0.1:$REDIS_PORT
  start_redis
}

start_redis() { # [START.SH OPTIONS...], e.g. --sentinels HOST:PORT,...
  "$ROOT/deploy/redis/start.sh" "$REDIS_PORT" "$WORK/redis" "$@" >>"$WORK/redis.log" 2>&1 &
  REDIS_PID=$! # start.sh execs redis-server, so this is the server's pid
  for _ in $(seq 1 100); do
    [ "$(redis-cli -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ] && return 0
    sleep 0.1
  done
  echo "Redis did not start on :$REDIS_PORT; see $WORK/redis.log" >&2
  return 1
}

kill_redis() {
  kill -9 "$REDIS_PID" 2>/dev/null || true
  wait "$REDIS_PID" 2>/dev/null || true
}

# The platform as `make run` starts it: deploy/run.sh supervises the registry, the router, one cell agent
# ("local", on a spare port) and the controller, restarting each when it exits; pids in $PAAS_DATA_DIR/run.
# The registry gets a spare port too, so it never meets `make run`'s on 5000; the first push (not counted)
# pushes the stack layer into it, later pushes only their app layer.
start_platform_supervised() {
  CELL_PORT=$(free_port)
  REGISTRY_PORT=$(free_port)
  PAAS_CELL_NAME=local PAAS_CELL_PORT=$CELL_PORT PAAS_REGISTRY_PORT=$REGISTRY_PORT CONFIGURATION=$CONFIGURATION \
    "$ROOT/deploy/run.sh" >"$WORK/run.log" 2>&1 &
  SUPERVISOR_PID=$!
  wait_url "http://127.0.0.1:$REGISTRY_PORT/"
  wait_url "http://127.0.0.1:$ADMIN_PORT/healthz"
  wait_url "http://127.0.0.1:$CELL_PORT/healthz"
  wait_url "http://127.0.0.1:$API_PORT/healthz"
  for _ in $(seq 1 100); do
    [ "$(paas cells --json | grep -c '"state": "live"')" -ge 1 ] && return 0
    sleep 0.1
  done
  echo "the cell did not register; see $PAAS_DATA_DIR/logs" >&2
  return 1
}

# A registry as `make run` and the multi-host tests use it (Debian's docker-registry, htpasswd, bcrypt), on a
# spare loopback port (the engine trusts plain HTTP there), its storage under $WORK. Call before start_platform*:
# the controller and cells read PAAS_REGISTRY* from the environment.
REGISTRY_PID=
REGISTRY_PORT=
start_registry() {
  # The same registry `make run` starts (deploy/registry/start.sh: its config, credentials and auth), on a
  # port and directory of this run's own; no garbage collection, the directory is new.
  local bind=${1:-127.0.0.1} dir=$WORK/registry port
  port=$(free_port)
  REGISTRY_PORT=$port
  "$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)/deploy/registry/start.sh" "$bind" "$port" "$dir" --no-gc >"$WORK/registry.log" 2>&1 &
  REGISTRY_PID=$!
  wait_url "http://127.0.0.1:$port/"
  export PAAS_REGISTRY=127.0.0.1:$port PAAS_REGISTRY_USERNAME=$(<"$dir/username") PAAS_REGISTRY_PASSWORD=$(<"$dir/password")
}

stop_platform() {
  [ -z "$REGISTRY_PID" ] || kill "$REGISTRY_PID" 2>/dev/null || true
  # The registry: start_registry's, or the one deploy/run.sh started (its PAAS_REGISTRY is not exported here;
  # under `set -u` the bare variable stopped the clean-up right here, leaving the platform running).
  local registry=${PAAS_REGISTRY:-${REGISTRY_PORT:+127.0.0.1:$REGISTRY_PORT}}
  if [ -n "$registry" ]; then
    # The engine keeps the registry's tags of this run's images: removed with them below.
    docker images --format '{{.Repository}}:{{.Tag}}' | grep "^$registry/" | xargs -r docker rmi -f >/dev/null 2>&1 || true
  fi
  if [ -n "$SUPERVISOR_PID" ]; then
    kill -TERM "$SUPERVISOR_PID" 2>/dev/null || true # it stops its children (SIGTERM, 10 s, SIGKILL)
  fi
  kill "${PIDS[@]}" "${CELL_PIDS[@]}" 2>/dev/null || true
  # This run's own Redis is a background job too: killed before `wait`, which would wait for it forever.
  # Its files go with $WORK.
  [ -z "$REDIS_PID" ] || kill -9 "$REDIS_PID" 2>/dev/null || true
  wait 2>/dev/null || true
  local platform
  # The controller's log is $WORK/controller.log, or under the data directory when run.sh started it.
  platform=$({ cat "$WORK/controller.log" "$PAAS_DATA_DIR/logs/controller.log" 2>/dev/null || true; } |
    sed -n 's/^Paas controller \([a-z0-9]*\) is serving.*/\1/p' | head -n 1)
  if [ -n "$platform" ]; then
    docker ps -aq --filter "label=paas.platform=$platform" | xargs -r docker rm -f >/dev/null
    docker images -q --filter "label=paas.platform=$platform" | sort -u | xargs -r docker rmi -f >/dev/null 2>&1 || true
  fi
  if [ -z "$REDIS_PID" ]; then
    redis-cli -p "$REDIS_PORT" --scan --pattern "$PREFIX*" | xargs -r redis-cli -p "$REDIS_PORT" del >/dev/null
  fi
  rm -rf "$WORK"
}
trap stop_platform EXIT

# new_app NAME FIXTURE: creates the app, a work tree with the fixture, the remote; pushes it.
new_app() {
  local app=$1 fixture=$2
  cp -r "$ROOT/tests/fixtures/apps/$fixture" "$WORK/$app"
  (
    cd "$WORK/$app" || exit 1
    git init -q -b main && git add -A && git -c user.name=b -c user.email=b@b commit -qm v0
    paas apps:create "$app" >/dev/null
    paas git:remote "$app" >/dev/null
    git push -q paas main >"$WORK/push-$app.log" 2>&1 || { cat "$WORK/push-$app.log"; exit 1; }
  )
}

get() { curl -s -o /dev/null -w '%{http_code}' -H "Host: $1.localhost" "http://127.0.0.1:$ROUTER_PORT${2:-/}"; }
