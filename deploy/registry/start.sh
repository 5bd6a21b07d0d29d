#!/usr/bin/env bash
# Starts the platform's image registry (Debian's docker-registry, the Distribution 2.8 server) in the
# foreground (exec, so a supervisor owns the process), listening on ADDRESS:PORT and keeping everything in
# DIR: config.yml (made afresh at each start), storage in DIR/data, credentials (credentials.sh, made once).
#  - Not writable anonymously: htpasswd authentication covers every call, pulls included (Distribution has
#    no read-only anonymous mode); cells and the controller get PAAS_REGISTRY_USERNAME/_PASSWORD.
#  - Deletes are enabled: the controller deletes pruned releases' manifests (by digest).
#  - Garbage collection runs first, before the server: Distribution's GC is safe only while nothing writes,
#    and at this point nothing serves DIR. It frees the layers of manifests deleted since the last start
#    (deploy/systemd's nightly paas-registry-gc does the same with the unit stopped).
# usage: start.sh ADDRESS PORT DIR [--no-gc]
set -euo pipefail

if [[ ${1:-} == -h || ${1:-} == --help ]]; then
  sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
  exit 0
fi
if (($# < 3 || $# > 4)) || [[ $# == 4 && $4 != --no-gc ]]; then
  echo "usage: $0 ADDRESS PORT DIR [--no-gc]" >&2
  exit 2
fi
address=$1
port=$2
dir=$3
if ! [[ $port =~ ^[0-9]+$ ]] || ((port < 1 || port > 65535)); then
  echo "start.sh: the port must be a number from 1 to 65535, not '$port'." >&2
  exit 2
fi
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
"$here/credentials.sh" "$dir"
dir=$(cd "$dir" && pwd)
mkdir -p "$dir/data"
config=$dir/config.yml
# The http secret signs upload state between requests; one registry process, so a fresh one per start is fine.
(umask 077 && cat >"$config.tmp" <<YAML
# Made by $here/start.sh at each start: edit that script, not this file.
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $dir/data
  delete:
    enabled: true
  cache:
    blobdescriptor: inmemory
http:
  addr: $address:$port
  secret: $(openssl rand -hex 16)
  headers:
    X-Content-Type-Options: [nosniff]
auth:
  htpasswd:
    realm: paas-registry
    path: $dir/htpasswd
health:
  storagedriver:
    enabled: true
    interval: 10s
    threshold: 3
YAML
mv "$config.tmp" "$config")

if [[ ${4:-} != --no-gc ]]; then
  # A failed collection leaves only garbage behind: serving matters more, the next start tries again.
  "$here/gc.sh" "$dir" || echo "start.sh: serving without garbage collection this time" >&2
fi
exec docker-registry serve "$config"
