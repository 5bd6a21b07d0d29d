#!/usr/bin/env bash
# Garbage-collects the registry in DIR (made by start.sh): removes the layers no manifest uses any more,
# after the controller deleted pruned releases' manifests. Distribution's GC must not run while the
# registry serves DIR (a push in progress could lose a layer): start.sh runs it before serving, and the
# systemd timer stops paas-registry around it.
# usage: gc.sh DIR
set -euo pipefail

if (($# != 1)) || [[ $1 == -h || $1 == --help ]]; then
  echo "usage: $0 DIR   (the registry's directory, holding config.yml; the registry must be stopped)" >&2
  [[ ${1:-} == -h || ${1:-} == --help ]] && exit 0
  exit 2
fi
dir=$1
if [[ ! -s $dir/config.yml ]]; then
  echo "gc.sh: $dir/config.yml is missing; the registry has never started there, so there is nothing to collect." >&2
  exit 0
fi
if [[ ! -d $dir/data/docker/registry/v2/repositories ]]; then
  echo "registry garbage collection: nothing pushed yet"
  exit 0
fi
before=$(du -sm "$dir/data" 2>/dev/null | cut -f1)
# Its output lists every blob it marks; only the summary matters here.
if ! output=$(docker-registry garbage-collect "$dir/config.yml" 2>&1); then
  echo "registry garbage collection failed: $(tail -n 1 <<<"$output")" >&2
  exit 1
fi
after=$(du -sm "$dir/data" 2>/dev/null | cut -f1)
echo "registry garbage collection: ${before:-0} MB -> ${after:-0} MB ($(grep -c 'eligible for deletion' <<<"$output" || true) blobs removed)"
