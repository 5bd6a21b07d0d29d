#!/usr/bin/env bash
# Starts redis-server with the platform's settings (paas-redis.conf next to this script), listening on
# 127.0.0.1:PORT (and on the addresses of PAAS_REDIS_BIND) and keeping its files in DIR. Runs in the foreground (exec), so the caller owns the
# process; setup.sh adds `--daemonize yes --logfile FILE`. Further arguments are redis-server options
# and win over the file.
# If DIR/password exists, Redis requires that password. It is handed over on stdin, never on the
# command line, where every user of the machine could read it.
# PAAS_REDIS_BIND (default 127.0.0.1): the addresses to listen on, space-separated. A multi-host
# controller host adds its address on the cluster network ("127.0.0.1 10.0.0.5") so cell hosts and
# routers elsewhere reach Redis; never every interface by default. 127.0.0.1 is always kept (set-up and
# the components on this host connect there), and an address beyond loopback needs DIR/password.
# usage: start.sh PORT DIR [--option value ...]
set -euo pipefail

if (($# < 2)); then
  echo "usage: $0 PORT DIR [--redis-option value ...]" >&2
  exit 2
fi
port=$1
dir=$2
shift 2
conf=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/paas-redis.conf
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

# redis-server is given a file of this instance's own, made afresh at each start: the shared file is
# included, never loaded directly, because CONFIG REWRITE (which Sentinel sends at every failover)
# rewrites the file Redis was started with. Sentinel's rewrites last until the next start; the sentinels
# then put a restarted Redis back in its role. A rewrite writes the password into it too: DIR is kept
# private (setup makes it 0700).
(umask 077 && printf '# Made by %s at each start; the settings are in %s.\ninclude %s\n' \
  "${BASH_SOURCE[0]}" "$conf" "$conf" >"$dir/redis.conf")

read -r -a binds <<<"${PAAS_REDIS_BIND:-127.0.0.1}"
[[ " ${binds[*]} " == *" 127.0.0.1 "* ]] || binds=(127.0.0.1 "${binds[@]}")
for address in "${binds[@]}"; do
  if [[ $address != 127.* && $address != ::1 && ! -s $dir/password ]]; then
    echo "start.sh: PAAS_REDIS_BIND names $address, beyond loopback, but $dir/password is missing: Redis would take anyone on that network without a password." >&2
    exit 2
  fi
done

args=("$dir/redis.conf" --port "$port" --bind "${binds[@]}" --dir "$dir" "$@")
if [[ -s $dir/password ]]; then
  # A trailing "-" makes redis-server read more configuration from stdin.
  exec redis-server "${args[@]}" - < <(printf 'requirepass "%s"\n' "$(<"$dir/password")")
fi
exec redis-server "${args[@]}"
