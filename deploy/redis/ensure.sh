#!/usr/bin/env bash
# Makes sure the platform's Redis answers on 127.0.0.1:PORT with the settings of paas-redis.conf
# (and listens on PAAS_REDIS_BIND's addresses, see start.sh).
#  - Nothing answers: starts one (start.sh) keeping its files in DIR, with a password it generates
#    once into DIR/password (0600; connection.sh turns it into PAAS_REDIS for the components).
#  - The platform's own Redis answers (its directory is DIR, e.g. started by an earlier setup without
#    persistence): applies every setting of paas-redis.conf live with CONFIG SET. A password is not
#    switched on live: components already connected without one would fail at their next reconnect.
#  - Another Redis answers (a Debian-packaged one, with its own directory): turns on its append-only
#    file live and says what else it lacks; its memory settings and its config file are its owner's.
# usage: ensure.sh PORT DIR LOGFILE
set -euo pipefail

if (($# != 3)); then
  echo "usage: $0 PORT DIR LOGFILE" >&2
  exit 2
fi
port=$1
dir=$2
log=$3
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly conf=$here/paas-redis.conf
readonly password_file=$dir/password
readonly WAIT_S=20
# Whether to send the password is decided below, not by the caller's environment.
unset REDISCLI_AUTH

cli() { redis-cli --no-auth-warning -h 127.0.0.1 -p "$port" "$@"; }
cli_with_password() { REDISCLI_AUTH=$(<"$password_file") cli "$@"; }
answers() { [[ $(cli ping 2>/dev/null) == PONG ]]; }
answers_with_password() { [[ -s $password_file && $(cli_with_password ping 2>/dev/null) == PONG ]]; }
# Set once it is known whether this Redis wants the password (sending one to a Redis without is an error).
cli_auth=cli

# CONFIG SET NAME VALUE for each directive of paas-redis.conf whose name is in $@ (all when none given).
apply_live() {
  local name value failed=0
  while read -r name value; do
    [[ -z $name || $name == \#* ]] && continue
    if (($#)) && [[ " $* " != *" $name "* ]]; then continue; fi
    value=${value#\"}
    value=${value%\"}
    if [[ $($cli_auth config set "$name" "$value" 2>&1) != OK ]]; then
      echo "    warning: CONFIG SET $name $value was refused" >&2
      failed=1
    fi
  done <"$conf"
  return $failed
}

if answers || answers_with_password; then
  answers || cli_auth=cli_with_password
  running_dir=$($cli_auth config get dir 2>/dev/null | sed -n 2p || true)
  if [[ $(realpath -m "$running_dir") == $(realpath -m "$dir") ]]; then
    apply_live || true
    echo "    redis on :$port is the platform's own ($dir): append-only file and memory bound applied live"
    # PAAS_REDIS_BIND too (start.sh reads it at the next start); only with the password on, as start.sh.
    if [[ -n ${PAAS_REDIS_BIND:-} ]] && ! answers; then
      bind=$PAAS_REDIS_BIND
      [[ " $bind " == *" 127.0.0.1 "* ]] || bind="127.0.0.1 $bind"
      if [[ $($cli_auth config set bind "$bind" 2>&1) == OK ]]; then
        echo "    redis on :$port listens on $bind"
      else
        echo "    warning: redis on :$port refused to listen on $bind (is each address this host's?)" >&2
      fi
    fi
  else
    apply_live appendonly appendfsync || true
    echo "    redis on :$port keeps its files in ${running_dir:-?}, not $dir: not the platform's own."
    echo "    Its append-only file is on now (until it restarts: add 'appendonly yes' to its config file);"
    echo "    its memory limit and password are left as they are."
  fi
  if answers && [[ -e $password_file ]]; then
    # The file names a password this Redis does not have; components given it would fail to connect.
    echo "    redis on :$port runs without a password; removing the stale $password_file"
    echo "    (a Redis that setup starts itself gets one)"
    rm -f "$password_file"
  fi
  exit 0
fi

mkdir -p "$dir"
chmod 700 "$dir"
if [[ ! -s $password_file ]]; then
  (umask 077 && openssl rand -hex 24 >"$password_file")
fi
echo "    starting redis-server (log: $log)"
"$here/start.sh" "$port" "$dir" --daemonize yes --logfile "$log" --pidfile "$dir/redis.pid" >/dev/null
for ((i = 0; i < WAIT_S * 10; i++)); do
  answers_with_password && exit 0
  sleep 0.1
done
echo "redis does not answer PING after ${WAIT_S}s" >&2
exit 1
