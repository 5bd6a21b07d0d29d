#!/usr/bin/env bash
# Starts redis-server with the platform's settings (paas-redis.conf next to this script), listening on
# 127.0.0.1:PORT and keeping its files in DIR. Runs in the foreground (exec), so the caller owns the
# process; setup.sh adds `--daemonize yes --logfile FILE`. Further arguments are redis-server options
# and win over the file.
# If DIR/password exists, Redis requires that password. It is handed over on stdin, never on the
# command line, where every user of the machine could read it.
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

args=("$dir/redis.conf" --port "$port" --bind 127.0.0.1 --dir "$dir" "$@")
if [[ -s $dir/password ]]; then
  # A trailing "-" makes redis-server read more configuration from stdin.
  exec redis-server "${args[@]}" - < <(printf 'requirepass "%s"\n' "$(<"$dir/password")")
fi
exec redis-server "${args[@]}"
