#!/usr/bin/env bash
# Prints the credentials a new host needs to join this platform, as lines of an environment file, making
# any that do not exist yet:
#   PAAS_CELL_SECRET        the secret the controller presents to cell agents ($PAAS_DATA_DIR/cell-secret)
#   PAAS_REDIS              Redis at ADDRESS, with the password setup made ($PAAS_DATA_DIR/redis/password)
#   PAAS_REGISTRY           the registry at ADDRESS, and its user and password
#   PAAS_REGISTRY_USERNAME  (deploy/registry/credentials.sh, $PAAS_DATA_DIR/registry)
#   PAAS_REGISTRY_PASSWORD
# Run it on the controller's host, as root; keep its output private (it is every key to the cluster) and
# give it to deploy/join-cell.sh --secrets FILE on the new host. Redis must listen on ADDRESS: set-up binds
# it to 127.0.0.1 only unless PAAS_REDIS_BIND="127.0.0.1 ADDRESS" (never every interface); this script
# warns when it does not answer there.
# usage: cluster-secrets.sh [--address ADDR] [--data-dir DIR] [--redis-port PORT] [--registry-port PORT] [--json]
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
data_dir=${PAAS_DATA_DIR:-/var/lib/paas}
address=
redis_port=${PAAS_REDIS_PORT:-6379}
registry_port=${PAAS_REGISTRY_PORT:-5000}
json=0

usage() {
  sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
  cat <<'TEXT'

options:
  --address ADDR        the controller host's address on the cluster network (default: its first address)
  --data-dir DIR        the platform's data directory (default: $PAAS_DATA_DIR or /var/lib/paas)
  --redis-port PORT     Redis's port (default: $PAAS_REDIS_PORT or 6379)
  --registry-port PORT  the registry's port (default: $PAAS_REGISTRY_PORT or 5000)
  --json                one JSON object instead of environment-file lines
  -h, --help            this text
TEXT
}

fail() {
  echo "cluster-secrets.sh: $1" >&2
  exit 2
}

while (($#)); do
  case $1 in
  -h | --help) usage; exit 0 ;;
  --json) json=1; shift ;;
  --address | --data-dir | --redis-port | --registry-port)
    (($# >= 2)) || fail "$1 needs a value; see --help."
    case $1 in
    --address) address=$2 ;;
    --data-dir) data_dir=$2 ;;
    --redis-port) redis_port=$2 ;;
    --registry-port) registry_port=$2 ;;
    esac
    shift 2
    ;;
  *) fail "unknown argument '$1'; see --help." ;;
  esac
done
for port in "$redis_port" "$registry_port"; do
  [[ $port =~ ^[0-9]+$ ]] && ((port >= 1 && port <= 65535)) || fail "'$port' is not a port (1 to 65535)."
done
if [[ -z $address ]]; then
  address=$(hostname -I 2>/dev/null | awk '{print $1}')
  [[ -n $address ]] || fail "this host has no address to offer; give one with --address."
fi
[[ -d $data_dir ]] || fail "$data_dir does not exist: run deploy/setup.sh (or make run) on the controller's host first, or give --data-dir."

umask 077
secret_file=$data_dir/cell-secret
if [[ ! -s $secret_file ]]; then
  # The format CellSecret makes when the controller starts first: 32 random bytes, hex.
  openssl rand -hex 32 | tr -d '\n' >"$secret_file.tmp" && mv -n "$secret_file.tmp" "$secret_file"
  rm -f "$secret_file.tmp"
fi
cell_secret=$(tr -d '\n' <"$secret_file")
redis=$address:$redis_port
if [[ -s $data_dir/redis/password ]]; then
  redis+=",password=$(<"$data_dir/redis/password")"
else
  echo "cluster-secrets.sh: warning: $data_dir/redis/password is missing, so PAAS_REDIS carries no password (deploy/setup.sh makes one)." >&2
fi
if [[ $(REDISCLI_AUTH=$(cat "$data_dir/redis/password" 2>/dev/null) timeout 3 redis-cli --no-auth-warning \
  -h "$address" -p "$redis_port" ping 2>/dev/null) != PONG ]]; then
  echo "cluster-secrets.sh: warning: Redis does not answer on $address:$redis_port, so cell hosts cannot reach it: run deploy/setup.sh (or make run) with PAAS_REDIS_BIND=\"127.0.0.1 $address\"." >&2
fi
"$here/registry/credentials.sh" "$data_dir/registry"
registry_user=$(<"$data_dir/registry/username")
registry_password=$(<"$data_dir/registry/password")

if ((json)); then
  printf '{"PAAS_CELL_SECRET":"%s","PAAS_REDIS":"%s","PAAS_REGISTRY":"%s","PAAS_REGISTRY_USERNAME":"%s","PAAS_REGISTRY_PASSWORD":"%s"}\n' \
    "$cell_secret" "$redis" "$address:$registry_port" "$registry_user" "$registry_password"
else
  printf '# Cluster credentials of the Paas platform at %s (made by deploy/cluster-secrets.sh). Keep private.\n' "$address"
  printf 'PAAS_CELL_SECRET=%s\nPAAS_REDIS=%s\nPAAS_REGISTRY=%s\nPAAS_REGISTRY_USERNAME=%s\nPAAS_REGISTRY_PASSWORD=%s\n' \
    "$cell_secret" "$redis" "$address:$registry_port" "$registry_user" "$registry_password"
fi
