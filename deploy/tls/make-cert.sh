#!/usr/bin/env bash
# Makes a self-signed wildcard certificate for the app domain, for the router's TLS port.
#   deploy/tls/make-cert.sh DIR [DOMAIN]     (DOMAIN defaults to $PAAS_DOMAIN, then localhost)
# Writes DIR/DOMAIN.crt and DIR/DOMAIN.key (PEM), covering DOMAIN and *.DOMAIN. Idempotent: an existing
# pair that still covers the domain and is valid for at least 30 more days is left alone.
set -euo pipefail

dir=${1:?usage: make-cert.sh DIR [DOMAIN]}
domain=${2:-${PAAS_DOMAIN:-localhost}}
crt=$dir/$domain.crt
key=$dir/$domain.key

command -v openssl >/dev/null || { echo "make-cert.sh: openssl is required (apt-get install openssl)" >&2; exit 1; }

if [[ -s $crt && -s $key ]] \
  && openssl x509 -in "$crt" -noout -checkend $((30 * 24 * 3600)) >/dev/null 2>&1 \
  && openssl x509 -in "$crt" -noout -ext subjectAltName 2>/dev/null | grep -q "DNS:\*\.$domain\b"; then
  echo "==> TLS certificate for *.$domain already in $crt"
  exit 0
fi

mkdir -p "$dir"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
openssl req -x509 -newkey rsa:2048 -sha256 -nodes -days 825 \
  -subj "/CN=*.$domain" \
  -addext "subjectAltName=DNS:*.$domain,DNS:$domain" \
  -addext "basicConstraints=critical,CA:FALSE" \
  -addext "keyUsage=critical,digitalSignature,keyEncipherment" \
  -addext "extendedKeyUsage=serverAuth" \
  -keyout "$tmp/key" -out "$tmp/crt" 2>/dev/null
chmod 600 "$tmp/key"
# Key first, certificate last: the router reloads on a changed .crt and must find the matching key.
mv "$tmp/key" "$key"
mv "$tmp/crt" "$crt"
echo "==> made a self-signed TLS certificate for *.$domain in $crt"
