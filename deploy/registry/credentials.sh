#!/usr/bin/env bash
# The registry's credentials, made once: DIR/username ("paas"), DIR/password (random) and DIR/htpasswd (its
# bcrypt hash, the only hash Distribution accepts). All three are 0600 in a 0700 DIR; a later call keeps them,
# so the controller, the cells and every joined host go on using the same ones.
# With --print, writes PAAS_REGISTRY_USERNAME=… and PAAS_REGISTRY_PASSWORD=… lines (an environment file's)
# on stdout for the caller; without, prints nothing.
# usage: credentials.sh DIR [--print]
set -euo pipefail

if (($# < 1 || $# > 2)) || [[ $# == 2 && $2 != --print ]] || [[ $1 == -h || $1 == --help ]]; then
  echo "usage: $0 DIR [--print]   (makes DIR/username, DIR/password and DIR/htpasswd once)" >&2
  [[ ${1:-} == -h || ${1:-} == --help ]] && exit 0
  exit 2
fi
dir=$1
mkdir -p "$dir"
chmod 700 "$dir"
umask 077
if [[ ! -s $dir/username ]]; then
  echo paas >"$dir/username.tmp" && mv "$dir/username.tmp" "$dir/username"
fi
if [[ ! -s $dir/password ]]; then
  openssl rand -hex 24 >"$dir/password.tmp" && mv "$dir/password.tmp" "$dir/password"
  rm -f "$dir/htpasswd"
fi
if [[ ! -s $dir/htpasswd ]]; then
  # The password on stdin (-i), never on a command line where every user of the machine could read it.
  htpasswd -niB "$(<"$dir/username")" <"$dir/password" >"$dir/htpasswd.tmp"
  mv "$dir/htpasswd.tmp" "$dir/htpasswd"
fi
chmod 600 "$dir/username" "$dir/password" "$dir/htpasswd"
if [[ ${2:-} == --print ]]; then
  printf 'PAAS_REGISTRY_USERNAME=%s\nPAAS_REGISTRY_PASSWORD=%s\n' "$(<"$dir/username")" "$(<"$dir/password")"
fi
