#!/usr/bin/env bash
# Builds the docker image paas/addons:latest, the service image add-on containers (PostgreSQL, Redis) run:
# Debian's postgresql and redis-server packages installed on top of paas/stack, the platform's own Debian
# root file system (built by deploy/stack/build.sh), so nothing is pulled from a registry. The image carries
# the hash of its recipe (these files and the stack image's id) as a label, so re-running is a no-op until
# the recipe or the stack changes.
set -euo pipefail

readonly IMAGE=paas/addons:latest
readonly STACK=paas/stack:latest
readonly LABEL=paas.addons.recipe
DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly DIR
readonly RECIPE_FILES=(build.sh Dockerfile paas-addon)
PAAS_DATA_DIR=${PAAS_DATA_DIR:-/var/lib/paas}
readonly LOG=$PAAS_DATA_DIR/logs/addons-build.log

stack_id=$(docker image inspect -f '{{.Id}}' "$STACK" 2>/dev/null) || {
  echo "addons image: $STACK is missing (deploy/stack/build.sh builds it)" >&2
  exit 1
}
HASH=$({ (cd "$DIR" && sha256sum -- "${RECIPE_FILES[@]}"); echo "$stack_id"; } | sha256sum | cut -c1-64)
readonly HASH
current=$(docker image inspect -f "{{ index .Config.Labels \"$LABEL\" }}" "$IMAGE" 2>/dev/null || true)
if [[ $current == "$HASH" ]]; then
  echo "==> add-on image paas/addons is up to date"
  exit 0
fi

mkdir -p "$(dirname "$LOG")"
exec 9>"$PAAS_DATA_DIR/addons-build.lock"
flock 9
current=$(docker image inspect -f "{{ index .Config.Labels \"$LABEL\" }}" "$IMAGE" 2>/dev/null || true)
if [[ $current == "$HASH" ]]; then
  echo "==> add-on image paas/addons is up to date"
  exit 0
fi

t0=$SECONDS
echo "==> building add-on image paas/addons (PostgreSQL, Redis from Debian; log: $LOG)"
# The classic builder resolves FROM paas/stack on this engine and never pulls it.
if ! DOCKER_BUILDKIT=0 docker build --label "$LABEL=$HASH" -t "$IMAGE" "$DIR" >"$LOG" 2>&1; then
  tail -n 30 "$LOG" | sed 's/^/    | /' >&2
  echo "    FAILED: docker build (log: $LOG)" >&2
  exit 1
fi
docker run --rm --pull=never --network=none --entrypoint /bin/sh "$IMAGE" \
  -c 'postgres --version && redis-server --version && id -u' | sed 's/^/    /'
echo "==> add-on image paas/addons built: $(( $(docker image inspect -f '{{.Size}}' "$IMAGE") / 1000000 )) MB, $((SECONDS - t0)) s"
