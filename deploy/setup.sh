#!/usr/bin/env bash
# Prepares a Debian 12 host to run Paas: packages, dockerd, redis and the
# paas/stack image. Safe to run on every boot or deploy: each part is skipped
# when already in place, so a set-up host is through in about a second.
#
# Runs as root. No systemd is assumed, so daemons are started directly.
# env: PAAS_DATA_DIR (default /var/lib/paas), PAAS_REDIS_PORT (default 6379).
set -euo pipefail

PAAS_DATA_DIR=${PAAS_DATA_DIR:-/var/lib/paas}
PAAS_REDIS_PORT=${PAAS_REDIS_PORT:-6379}
export PAAS_DATA_DIR PAAS_REDIS_PORT
DEPLOY_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly DEPLOY_DIR
readonly LOG_DIR=$PAAS_DATA_DIR/logs
# iproute2 and the three after it are for the multi-host tests' test hosts (tests/Paas.EndToEnd.Tests/Infrastructure/TestNetwork.cs):
# network namespaces (ip), a registry between hosts (docker-registry, with an htpasswd file), a 2 MB test image (busybox-static).
# pebble: the ACME test server (and its DNS stand-in, pebble-challtestsrv) that the HTTPS-for-custom-domains tests order certificates from.
# etcd-server and etcd-client: the state-store contract tests start a three-member etcd cluster (the PAAS_ETCD_ENDPOINTS option).
# zsh and fish: the CLI tests load `paas completion zsh|fish` into them.
# chromium: the browser the dashboard tests drive with Playwright (no browser download).
readonly PACKAGES=(docker.io redis-server git debootstrap curl ca-certificates iptables procps openssl iproute2 docker-registry apache2-utils busybox-static etcd-server etcd-client pebble zsh fish chromium)
# The real Heroku CLI, for the tests that drive Paas through its Heroku Platform API. Pinned: its
# requests and output are what those tests were written against. The current major (11.x, what users
# install) and the previous one (10.x), each in its own directory.
readonly HEROKU_CLI_VERSION=11.10.0
readonly HEROKU_CLI_DIR=${PAAS_HEROKU_CLI_DIR:-/opt/paas/heroku-cli-11}
readonly HEROKU_CLI_PREVIOUS_VERSION=10.17.0
readonly HEROKU_CLI_PREVIOUS_DIR=${PAAS_HEROKU_CLI_PREVIOUS_DIR:-/opt/paas/heroku-cli}
readonly DOCKER_WAIT_S=60

now_us() { local t=${EPOCHREALTIME//[!0-9]/}; echo "$t"; }
elapsed() {
  local us=$(($(now_us) - $1))
  printf '%d.%d' $((us / 1000000)) $((us / 100000 % 10))
}
STEP_T0=0
step() {
  printf '==> %s\n' "$*"
  STEP_T0=$(now_us)
}
step_done() { printf '    done (%ss)\n' "$(elapsed "$STEP_T0")"; }
# $1: what failed; $2: a log worth showing the end of.
fail() {
  printf '    FAILED (%ss): %s\n' "$(elapsed "$STEP_T0")" "$1" >&2
  if [[ -n ${2:-} && -s $2 ]]; then
    printf '    last lines of %s:\n' "$2" >&2
    tail -n 30 "$2" | sed 's/^/    | /' >&2
  fi
  exit 1
}

if [[ $EUID -ne 0 ]]; then
  echo "setup.sh must run as root" >&2
  exit 1
fi

T0=$(now_us)
mkdir -p "$LOG_DIR"

step "checking Debian packages"
# One dpkg-query for all: a call per package costs a tenth of a second.
declare -A installed=()
while read -r status pkg; do
  if [[ $status == ii ]]; then installed[$pkg]=1; fi
done < <(dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' "${PACKAGES[@]}" 2>/dev/null || true)
missing=()
for pkg in "${PACKAGES[@]}"; do
  if [[ -z ${installed[$pkg]:-} ]]; then missing+=("$pkg"); fi
done
step_done

if ((${#missing[@]})); then
  apt_log=$LOG_DIR/apt.log
  step "installing ${missing[*]} (log: $apt_log)"
  : >"$apt_log"
  # The package lists of a fresh host are empty or stale; refreshing them
  # costs seconds, so only when there is something to install.
  apt-get update -q >>"$apt_log" 2>&1 || fail "apt-get update" "$apt_log"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >>"$apt_log" 2>&1 ||
    fail "apt-get install" "$apt_log"
  step_done
fi

# Debian's docker-registry package enables its own registry on *:5000, writable by anyone. The platform runs
# its registry itself (deploy/registry/start.sh, with credentials, on the platform's address and the same port),
# so the packaged service is stopped and disabled where systemd runs.
if [[ -d /run/systemd/system ]] && systemctl is-enabled --quiet docker-registry.service 2>/dev/null; then
  systemctl disable --now docker-registry.service >/dev/null 2>&1 || true
  echo "    stopped and disabled Debian's docker-registry.service (anonymous, on *:5000): Paas runs its own registry"
fi

docker_up() { docker info >/dev/null 2>&1; }

step "checking dockerd"
if docker_up; then
  step_done
else
  dockerd_log=$LOG_DIR/dockerd.log
  # A dockerd that is still starting (for example one that the package's
  # init script just launched) holds the pid file; a second one would fail.
  if pgrep -x dockerd >/dev/null; then
    echo "    dockerd is running but not answering yet; waiting for it"
    dockerd_pid=""
  else
    echo "    starting dockerd (log: $dockerd_log)"
    # Its own session, so it outlives this script and the terminal.
    setsid nohup dockerd >>"$dockerd_log" 2>&1 </dev/null &
    dockerd_pid=$!
  fi
  for ((i = 0; i < DOCKER_WAIT_S * 4; i++)); do
    docker_up && break
    if [[ -n $dockerd_pid ]] && ! kill -0 "$dockerd_pid" 2>/dev/null; then
      fail "dockerd exited" "$dockerd_log"
    fi
    sleep 0.25
  done
  docker_up || fail "docker info still fails after ${DOCKER_WAIT_S}s" "$dockerd_log"
  step_done
fi

step "checking redis on 127.0.0.1:$PAAS_REDIS_PORT"
# Redis holds every app's log stream, the routes and the cells' registrations: it keeps an append-only
# file in $PAAS_DATA_DIR/redis and requires a password (deploy/redis/ for the settings and why).
"$DEPLOY_DIR/redis/ensure.sh" "$PAAS_REDIS_PORT" "$PAAS_DATA_DIR/redis" "$LOG_DIR/redis.log" ||
  fail "redis is not running with the platform's settings" "$LOG_DIR/redis.log"
step_done

"$DEPLOY_DIR/stack/build.sh"
# The add-on service image (PostgreSQL, Redis from Debian) on top of the stack: a no-op when neither changed.
"$DEPLOY_DIR/addons/build.sh"

# The router's TLS port serves apps with this self-signed wildcard certificate until an operator adds real ones.
"$DEPLOY_DIR/tls/make-cert.sh" "$PAAS_DATA_DIR/certs" "${PAAS_DOMAIN:-localhost}"

# $1: version, $2: directory.
install_heroku_cli() {
  local installed_cli apt_log npm_log
  step "checking the Heroku CLI $1 in $2"
  installed_cli=$(node -p "require('$2/node_modules/heroku/package.json').version" 2>/dev/null || true)
  if [[ $installed_cli == "$1" ]]; then
    step_done
  else
    if ! command -v npm >/dev/null; then
      # Debian's nodejs has no npm in it; a NodeSource nodejs brings its own (and conflicts with Debian's npm).
      apt_log=$LOG_DIR/apt.log
      apt-get update -q >>"$apt_log" 2>&1 || fail "apt-get update" "$apt_log"
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q nodejs npm >>"$apt_log" 2>&1 || fail "apt-get install nodejs npm" "$apt_log"
    fi
    npm_log=$LOG_DIR/npm-heroku-cli.log
    mkdir -p "$2"
    # No audit, funding or update notices: only the registry download itself.
    npm install --prefix "$2" --no-audit --no-fund --no-update-notifier --loglevel=error \
      "heroku@$1" >"$npm_log" 2>&1 || fail "npm install heroku@$1" "$npm_log"
    step_done
  fi
}
install_heroku_cli "$HEROKU_CLI_VERSION" "$HEROKU_CLI_DIR"
install_heroku_cli "$HEROKU_CLI_PREVIOUS_VERSION" "$HEROKU_CLI_PREVIOUS_DIR"

printf '==> host ready (%ss)\n' "$(elapsed "$T0")"
