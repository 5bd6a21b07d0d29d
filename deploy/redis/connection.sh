#!/usr/bin/env bash
# Prints the PAAS_REDIS connection string for the platform's Redis that setup.sh (ensure.sh) runs:
# 127.0.0.1:PORT, with the password of DIR/password when there is one.
# usage: connection.sh PORT DIR
set -euo pipefail
port=$1
dir=$2
if [[ -s $dir/password ]]; then
  printf '127.0.0.1:%s,password=%s\n' "$port" "$(<"$dir/password")"
else
  printf '127.0.0.1:%s\n' "$port"
fi
