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
# With Sentinel, `--sentinels HOST:PORT,... [--service NAME]` (first, before any Redis option; the
# service defaults to paas): before it starts, this Redis asks the sentinels which Redis is the primary,
# and when that is another one it starts as its replica. A primary that was down while the sentinels
# failed it over must not come back as a primary: until they demote it (about 10 s) it would serve its
# stale data, and clients that knew it read from it (make chaos: 13 s of 502s, the router loading the
# routes of stopped instances).
# usage: start.sh PORT DIR [--sentinels HOST:PORT,... [--service NAME]] [--option value ...]
set -euo pipefail

if (($# < 2)); then
  echo "usage: $0 PORT DIR [--sentinels HOST:PORT,... [--service NAME]] [--redis-option value ...]" >&2
  exit 2
fi
port=$1
dir=$2
shift 2
sentinels= service=paas
if [[ ${1:-} == --sentinels ]]; then
  sentinels=${2:?--sentinels needs HOST:PORT,...}
  shift 2
  if [[ ${1:-} == --service ]]; then
    service=${2:?--service needs a name}
    shift 2
  fi
fi
conf=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/paas-redis.conf
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

# redis-server is given a file of this instance's own, made afresh at each start: the shared file is
# included, never loaded directly, because CONFIG REWRITE (which Sentinel sends at every failover)
# rewrites the file Redis was started with. Of Sentinel's rewrites, the role is kept: a Redis the
# sentinels made a replica (a failed-over primary, once they have demoted it) has a `replicaof` line and
# must come back as that replica. Started as a primary again, it would serve its stale data as a primary
# until the sentinels demote it again, about 10 s, and clients that knew it read from it (make chaos saw
# 13 s of 502s after a primary that was down during the failover came back: the router loaded the routes
# of instances already stopped). A rewrite writes the password into it too: DIR is kept private (setup
# makes it 0700).
kept=$(grep -E '^(replicaof|masterauth) ' "$dir/redis.conf" 2>/dev/null || true)
[[ -z $kept ]] || kept=$(printf '# Kept from the last CONFIG REWRITE (Sentinel): the role of this Redis.\n%s\n' "$kept")
(umask 077 && printf '# Made by %s at each start; the settings are in %s.\ninclude %s\n%s' \
  "${BASH_SOURCE[0]}" "$conf" "$conf" "${kept:+$kept$'\n'}" >"$dir/redis.conf.tmp" && mv "$dir/redis.conf.tmp" "$dir/redis.conf")

read -r -a binds <<<"${PAAS_REDIS_BIND:-127.0.0.1}"
[[ " ${binds[*]} " == *" 127.0.0.1 "* ]] || binds=(127.0.0.1 "${binds[@]}")
for address in "${binds[@]}"; do
  if [[ $address != 127.* && $address != ::1 && ! -s $dir/password ]]; then
    echo "start.sh: PAAS_REDIS_BIND names $address, beyond loopback, but $dir/password is missing: Redis would take anyone on that network without a password." >&2
    exit 2
  fi
done

args=("$dir/redis.conf" --port "$port" --bind "${binds[@]}" --dir "$dir")
if [[ -n $sentinels ]]; then
  # The first sentinel that names a primary decides; none answering: start as the file says (the
  # sentinels put this Redis in its role once they see it).
  IFS=, read -ra list <<<"$sentinels"
  for sentinel in "${list[@]}"; do
    primary=$(timeout 2 redis-cli -h "${sentinel%:*}" -p "${sentinel##*:}" sentinel get-master-addr-by-name "$service" 2>/dev/null | paste -sd ' ') || continue
    [[ $primary =~ ^[^[:space:]]+\ [0-9]+$ ]] || continue
    if [[ ${primary#* } != "$port" || ! ${primary% *} =~ ^(127\.0\.0\.1|localhost)$ ]]; then
      echo "start.sh: the sentinel at $sentinel names ${primary/ /:} the primary of $service: starting as its replica" >&2
      args+=(--replicaof "${primary% *}" "${primary#* }")
    fi
    break
  done
fi
args+=("$@")
if [[ -s $dir/password ]]; then
  # A trailing "-" makes redis-server read more configuration from stdin.
  exec redis-server "${args[@]}" - < <(printf 'requirepass "%s"\n' "$(<"$dir/password")")
fi
exec redis-server "${args[@]}"
