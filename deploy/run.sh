#!/usr/bin/env bash
# Starts the platform in the foreground, supervised (deploy/supervise.sh): the image registry (unless
# PAAS_REGISTRY names another, or PAAS_REGISTRY_PORT is 0), the router, then (once it answers /healthz)
# one cell agent on the local engine and the controller, each its own process, each restarted whenever
# it exits. Ctrl-C stops all three; app containers keep running and are
# adopted at the next start. Logs are in $PAAS_DATA_DIR/logs, pids in $PAAS_DATA_DIR/run.
# On a real host, systemd does this job instead: see deploy/systemd.
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
export PAAS_CELL_NAME=${PAAS_CELL_NAME:-local}
export PAAS_CELL_PORT=${PAAS_CELL_PORT:-8091}
# On cgroup v1 with the cgroupfs driver each instance its own top-level cgroup, not all sharing /docker,
# so a busy instance does not shrink its neighbours' CPU weight (see PAAS_CELL_CGROUP_PARENT in README).
if [[ -z ${PAAS_CELL_CGROUP_PARENT:-} && -d /sys/fs/cgroup/cpu/docker ]]; then
  export PAAS_CELL_CGROUP_PARENT=/
fi
# The platform's registry (deploy/registry): on the platform's address, its storage and credentials
# (made once, 0600) under the data directory. Cells on other hosts pull release images from it.
PAAS_REGISTRY_BIND=${PAAS_REGISTRY_BIND:-127.0.0.1}
PAAS_REGISTRY_PORT=${PAAS_REGISTRY_PORT:-5000}
registry_dir=$PAAS_DATA_DIR/registry
own_registry=0
if [[ -z ${PAAS_REGISTRY:-} && $PAAS_REGISTRY_PORT != 0 ]]; then
  own_registry=1
  "$ROOT/deploy/registry/credentials.sh" "$registry_dir"
  export PAAS_REGISTRY=$PAAS_REGISTRY_BIND:$PAAS_REGISTRY_PORT
  PAAS_REGISTRY_USERNAME=$(<"$registry_dir/username")
  PAAS_REGISTRY_PASSWORD=$(<"$registry_dir/password")
  export PAAS_REGISTRY_USERNAME PAAS_REGISTRY_PASSWORD
fi

router_dll=$ROOT/router/Paas.Router/bin/$CONFIGURATION/net10.0/Paas.Router.dll
controller_dll=$ROOT/src/Paas.Controller/bin/$CONFIGURATION/net10.0/Paas.Controller.dll
cell_dll=$ROOT/src/Paas.Cell/bin/$CONFIGURATION/net10.0/Paas.Cell.dll

# shellcheck source=deploy/supervise.sh
source "$ROOT/deploy/supervise.sh"
supervise_begin

if ((own_registry)); then
  echo "==> starting registry on $PAAS_REGISTRY (log: $PAAS_DATA_DIR/logs/registry.log)"
  supervise registry "$ROOT/deploy/registry/start.sh" "$PAAS_REGISTRY_BIND" "$PAAS_REGISTRY_PORT" "$registry_dir"
  # Its root answers 200 without credentials once it serves (after garbage collection).
  supervise_ready registry "http://$PAAS_REGISTRY/" 60
fi

echo "==> starting router on :$PAAS_ROUTER_PORT (log: $PAAS_DATA_DIR/logs/router.log)"
supervise router dotnet "$router_dll"
supervise_ready router "http://127.0.0.1:$PAAS_ROUTER_ADMIN_PORT/healthz" 10

echo "==> starting cell agent $PAAS_CELL_NAME on :$PAAS_CELL_PORT (log: $PAAS_DATA_DIR/logs/cell.log)"
supervise cell dotnet "$cell_dll"

echo "==> starting controller on :$PAAS_API_PORT (log: $PAAS_DATA_DIR/logs/controller.log)"
supervise --terminal controller dotnet "$controller_dll"

supervise_wait
