#!/usr/bin/env bash
# Starts the platform in the foreground: the router and one cell agent on the local engine in the
# background (each its own process), then the controller. Ctrl-C stops all three; app containers keep
# running and are adopted at the next start.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CONFIGURATION=${CONFIGURATION:-Release}
export PAAS_DATA_DIR=${PAAS_DATA_DIR:-/var/lib/paas}
export PAAS_ROUTER_PORT=${PAAS_ROUTER_PORT:-8080}
export PAAS_ROUTER_ADMIN_PORT=${PAAS_ROUTER_ADMIN_PORT:-8081}
export PAAS_API_PORT=${PAAS_API_PORT:-8090}
export PAAS_BUILDPACKS_DIR=${PAAS_BUILDPACKS_DIR:-$ROOT/buildpacks}
# The Redis setup.sh runs, with its password; set PAAS_REDIS to use another (Sentinel: see README).
PAAS_REDIS=${PAAS_REDIS:-$("$ROOT/deploy/redis/connection.sh" "${PAAS_REDIS_PORT:-6379}" "$PAAS_DATA_DIR/redis")}
export PAAS_REDIS
mkdir -p "$PAAS_DATA_DIR/logs"

router_dll=$ROOT/router/Paas.Router/bin/$CONFIGURATION/net10.0/Paas.Router.dll
controller_dll=$ROOT/src/Paas.Controller/bin/$CONFIGURATION/net10.0/Paas.Controller.dll
cell_dll=$ROOT/src/Paas.Cell/bin/$CONFIGURATION/net10.0/Paas.Cell.dll
export PAAS_CELL_NAME=${PAAS_CELL_NAME:-local}
export PAAS_CELL_PORT=${PAAS_CELL_PORT:-8091}

echo "==> starting router on :$PAAS_ROUTER_PORT (log: $PAAS_DATA_DIR/logs/router.log)"
dotnet "$router_dll" >>"$PAAS_DATA_DIR/logs/router.log" 2>&1 &
router_pid=$!
background=("$router_pid")
trap 'kill "${background[@]}" 2>/dev/null || true; wait "${background[@]}" 2>/dev/null || true' EXIT INT TERM
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$PAAS_ROUTER_ADMIN_PORT/healthz" >/dev/null 2>&1 && break
  kill -0 "$router_pid" 2>/dev/null || { echo "router exited; see $PAAS_DATA_DIR/logs/router.log" >&2; exit 1; }
  sleep 0.1
done

echo "==> starting cell agent $PAAS_CELL_NAME on :$PAAS_CELL_PORT (log: $PAAS_DATA_DIR/logs/cell.log)"
dotnet "$cell_dll" >>"$PAAS_DATA_DIR/logs/cell.log" 2>&1 &
background+=("$!")

echo "==> starting controller on :$PAAS_API_PORT"
dotnet "$controller_dll"
