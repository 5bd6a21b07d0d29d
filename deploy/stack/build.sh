#!/usr/bin/env bash
# Builds the docker image paas/stack:latest, the Debian bookworm root file
# system that apps are built and run in. The image carries the hash of its
# recipe (this script and packages.txt) as a label, so re-running is a no-op
# until the recipe changes.
#
# env: PAAS_DATA_DIR (default /var/lib/paas) for the build log, lock and
# scratch space.
set -euo pipefail

readonly IMAGE=paas/stack:latest
readonly LABEL=paas.stack.recipe
readonly SUITE=bookworm
readonly DEFAULT_MIRROR=http://deb.debian.org/debian
STACK_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly STACK_DIR
# Every file whose content changes the image belongs here.
readonly RECIPE_FILES=(build.sh packages.txt)

PAAS_DATA_DIR=${PAAS_DATA_DIR:-/var/lib/paas}
readonly LOG_DIR=$PAAS_DATA_DIR/logs
readonly LOG=$LOG_DIR/stack-build.log
# Scratch lives under the data dir, not /tmp: the chroot needs device nodes
# and exec, which a nodev/noexec /tmp would refuse.
readonly SCRATCH=$PAAS_DATA_DIR/tmp

now_us() { local t=${EPOCHREALTIME//[!0-9]/}; echo "$t"; }
elapsed() {
  local us=$(($(now_us) - $1))
  printf '%d.%d' $((us / 1000000)) $((us / 100000 % 10))
}
STEP_T0=0
step() {
  printf '==> %s\n' "$*"
  STEP_T0=$(now_us)
}
step_done() { printf '    done (%ss)\n' "$(elapsed "$STEP_T0")"; }
fail() {
  printf '    FAILED (%ss): %s\n' "$(elapsed "$STEP_T0")" "$*" >&2
  if [[ -s $LOG ]]; then
    printf '    last lines of %s:\n' "$LOG" >&2
    tail -n 40 "$LOG" | sed 's/^/    | /' >&2
  fi
  exit 1
}
# Output of the slow, chatty commands goes to the log; it is only worth
# reading when something went wrong.
run_logged() {
  printf '+ %s\n' "$*" >>"$LOG"
  "$@" >>"$LOG" 2>&1 || fail "exit $?: $*"
}

# CAs the host's administrator added (a TLS-inspecting egress proxy, a private registry) must be
# trusted inside builds and apps too, or npm and curl fail there while working on the host.
readonly HOST_CA_DIR=/usr/local/share/ca-certificates
host_cas() { find "$HOST_CA_DIR" -name '*.crt' -type f 2>/dev/null | sort; }

recipe_hash() {
  {
    (cd "$STACK_DIR" && sha256sum -- "${RECIPE_FILES[@]}")
    host_cas | while read -r ca; do sha256sum < "$ca"; done
  } | sha256sum | cut -c1-64
}

current_label() {
  docker image inspect -f "{{ index .Config.Labels \"$LABEL\" }}" "$IMAGE" 2>/dev/null || true
}

HASH=$(recipe_hash)
readonly HASH
if [[ $(current_label) == "$HASH" ]]; then
  echo "==> stack image paas/stack is up to date"
  exit 0
fi

BUILD_T0=$(now_us)
mkdir -p "$LOG_DIR" "$SCRATCH"

# Two concurrent set-up runs must not both spend minutes building, nor
# clean up each other's scratch directories.
exec 9>"$PAAS_DATA_DIR/stack-build.lock"
if ! flock -n 9; then
  step "waiting for another stack build to finish"
  flock 9
  step_done
  if [[ $(current_label) == "$HASH" ]]; then
    echo "==> stack image paas/stack is up to date"
    exit 0
  fi
fi

: >"$LOG"

# Unmounts anything left mounted below $1; lazily if busy, because a
# detached mount can no longer be reached by the rm that follows.
unmount_below() {
  local dir=$1 m
  local -a mounts=()
  while read -r _ m _; do
    if [[ $m == "$dir"/* ]]; then mounts+=("$m"); fi
  done </proc/self/mounts
  local i
  for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
    umount "${mounts[i]}" 2>/dev/null || umount -l "${mounts[i]}" || true
  done
}

# rm -rf through a still-mounted /proc or /dev would reach the host's, so a
# directory is only removed once nothing is mounted below it.
remove_scratch() {
  local dir=$1
  unmount_below "$dir"
  if grep -q " $dir/" /proc/self/mounts; then
    echo "    warning: $dir still has mounts; leaving it in place" >&2
    return 0
  fi
  rm -rf --one-file-system -- "$dir"
}

# A build killed with SIGKILL or a reboot leaves its scratch behind; we hold
# the lock, so whatever is there is stale.
for stale in "$SCRATCH"/stack.*; do
  if [[ -d $stale ]]; then remove_scratch "$stale"; fi
done

BUILD_DIR=$(mktemp -d "$SCRATCH/stack.XXXXXX")
readonly BUILD_DIR
readonly ROOTFS=$BUILD_DIR/rootfs
cleanup() { if [[ -d $BUILD_DIR ]]; then remove_scratch "$BUILD_DIR"; fi; }
trap cleanup EXIT
# Without these traps bash dies on the signal without running the EXIT trap.
trap 'exit 130' INT
trap 'exit 143' TERM HUP

# Prints the first URI the host's apt sources use for suite $1 (deb822
# .sources files first, then the one-line sources.list), or nothing.
host_uri_for_suite() {
  local suite=$1 f uri
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -r $f ]] || continue
    uri=$(awk -v want="$suite" '
      BEGIN { RS = ""; FS = "\n" }
      {
        types = ""; uris = ""; suites = ""; enabled = "yes"
        for (i = 1; i <= NF; i++) {
          line = $i
          if (line ~ /^[ \t]*#/ || index(line, ":") == 0) continue
          key = tolower(substr(line, 1, index(line, ":") - 1))
          val = substr(line, index(line, ":") + 1)
          gsub(/^[ \t]+|[ \t]+$/, "", val)
          if (key == "types") types = val
          else if (key == "uris") uris = val
          else if (key == "suites") suites = val
          else if (key == "enabled") enabled = tolower(val)
        }
        if (enabled == "no" || (" " types " ") !~ / deb /) next
        if ((" " suites " ") !~ (" " want " ")) next
        split(uris, u, /[ \t]+/)
        print u[1]
        exit
      }' "$f")
    if [[ -n $uri ]]; then
      echo "${uri%/}"
      return 0
    fi
  done
  if [[ -r /etc/apt/sources.list ]]; then
    uri=$(awk -v want="$suite" '
      $1 != "deb" { next }
      {
        i = 2
        if ($i ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
        if ($(i + 1) == want) { print $i; exit }
      }' /etc/apt/sources.list)
    echo "${uri%/}"
  fi
}

step "reading the host's apt sources"
MIRROR=$(host_uri_for_suite "$SUITE")
MIRROR=${MIRROR:-$DEFAULT_MIRROR}
UPDATES_URI=$(host_uri_for_suite "$SUITE-updates")
SECURITY_URI=$(host_uri_for_suite "$SUITE-security")
echo "    mirror: $MIRROR"
echo "    updates: ${UPDATES_URI:-none}"
echo "    security: ${SECURITY_URI:-none}"
step_done

# Fail now rather than after minutes of debootstrap.
step "checking the docker daemon"
docker info >/dev/null 2>&1 || fail "docker info fails: is dockerd running? (deploy/setup.sh starts it)"
command -v debootstrap >/dev/null || fail "debootstrap is not installed (deploy/setup.sh installs it)"
step_done

# Unpacking ~450 packages is dominated by dpkg's fsyncs, and removing the
# tree afterwards by the disk (with online discard it took 50 s on the
# development VM). On tmpfs both are free, so use it when RAM allows: the
# tree peaks at about 1 GB.
mkdir -p "$ROOTFS"
mem_kb=$(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo)
if ((${mem_kb:-0} >= 4 * 1024 * 1024)); then
  mount -t tmpfs -o size=3g,mode=0755 paas-stack "$ROOTFS"
fi

step "debootstrap --variant=minbase $SUITE (log: $LOG)"
run_logged debootstrap --variant=minbase "$SUITE" "$ROOTFS" "$MIRROR"
step_done

in_chroot() {
  run_logged env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive \
    chroot "$ROOTFS" "$@"
}

step "configuring apt in the chroot"
{
  echo "deb $MIRROR $SUITE main"
  if [[ -n $UPDATES_URI ]]; then echo "deb $UPDATES_URI $SUITE-updates main"; fi
  if [[ -n $SECURITY_URI ]]; then echo "deb $SECURITY_URI $SUITE-security main"; fi
} >"$ROOTFS/etc/apt/sources.list"
# Docs never get unpacked, here or in images derived from the stack
# (copyright files stay, the licences ask for them).
cat >"$ROOTFS/etc/dpkg/dpkg.cfg.d/paas-nodoc" <<'EOF'
path-exclude=/usr/share/doc/*
path-include=/usr/share/doc/*/copyright
path-exclude=/usr/share/man/*
path-exclude=/usr/share/info/*
path-exclude=/usr/share/lintian/*
path-exclude=/usr/share/locale/*/LC_MESSAGES/*.mo
EOF
# The scratch tree is thrown away if the build dies, so dpkg's crash
# safety buys nothing here; the setting is removed before the import.
echo force-unsafe-io >"$ROOTFS/etc/dpkg/dpkg.cfg.d/paas-unsafe-io"
# A package's init script run by invoke-rc.d in a chroot would start its
# daemon on the host; 101 tells invoke-rc.d not to.
printf '#!/bin/sh\nexit 101\n' >"$ROOTFS/usr/sbin/policy-rc.d"
chmod 0755 "$ROOTFS/usr/sbin/policy-rc.d"
# Some maintainer scripts read /proc; debootstrap unmounts its own on exit.
if ! mountpoint -q "$ROOTFS/proc"; then
  mount -t proc proc "$ROOTFS/proc"
fi
step_done

mapfile -t PACKAGES < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' -e '/^$/d' "$STACK_DIR/packages.txt")
step "apt-get install ${#PACKAGES[@]} packages (${PACKAGES[*]})"
in_chroot apt-get update -q
# The bookworm point release debootstrap installed may lag the -updates and
# -security suites.
in_chroot apt-get dist-upgrade -y -q
in_chroot apt-get install -y -q --no-install-recommends "${PACKAGES[@]}"
step_done

step "creating user paas (1000:1000, home /app)"
in_chroot groupadd --gid 1000 paas
in_chroot useradd --uid 1000 --gid 1000 --home-dir /app --no-create-home --shell /bin/bash paas
install -d -o 1000 -g 1000 -m 0755 "$ROOTFS/app"
step_done

step "trusting the host's extra CA certificates"
mapfile -t CAS < <(host_cas)
if ((${#CAS[@]} > 0)); then
  install -d "$ROOTFS/usr/local/share/ca-certificates/host"
  cp -- "${CAS[@]}" "$ROOTFS/usr/local/share/ca-certificates/host/"
  in_chroot update-ca-certificates
fi
echo "    ${#CAS[@]} added"
step_done

step "trimming the root file system"
in_chroot apt-get clean
umount "$ROOTFS/proc"
rm -f "$ROOTFS/usr/sbin/policy-rc.d" "$ROOTFS/etc/dpkg/dpkg.cfg.d/paas-unsafe-io"
rm -rf "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/cache/apt/* \
  "$ROOTFS"/var/cache/debconf/*-old "$ROOTFS"/var/lib/dpkg/*-old \
  "$ROOTFS"/var/log/apt/* "$ROOTFS"/tmp/* "$ROOTFS"/var/tmp/* \
  "$ROOTFS"/usr/share/man/* "$ROOTFS"/usr/share/info/* "$ROOTFS"/usr/share/lintian/*
rm -f "$ROOTFS"/var/log/*.log
# debootstrap unpacked its packages before the nodoc rule existed.
find "$ROOTFS/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete
find "$ROOTFS/usr/share/doc" -mindepth 1 -depth -type d -empty -delete
find "$ROOTFS/usr/share/locale" -name '*.mo' -delete
# debootstrap copied these from the host; docker supplies its own at run time.
: >"$ROOTFS/etc/resolv.conf"
: >"$ROOTFS/etc/hostname"
echo "    root file system: $(du -sh --one-file-system "$ROOTFS" | cut -f1)"
step_done

step "docker import"
# Imported untagged and tagged only after the smoke test, so a broken or
# truncated import never carries the label that would mark it up to date.
IMAGE_ID=$(tar -C "$ROOTFS" --numeric-owner --exclude='./dev/*' --exclude='./proc/*' \
  --exclude='./sys/*' -c . 2>>"$LOG" |
  docker import \
    --change "LABEL $LABEL=$HASH" \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV STACK=paas-bookworm' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'WORKDIR /app' \
    --change 'CMD ["/bin/bash"]' \
    - 2>>"$LOG") || fail "tar | docker import"
echo "    $IMAGE_ID"
step_done

step "smoke test (as uid 1000)"
docker run --rm --pull=never --network=none --user 1000 "$IMAGE_ID" \
  sh -c 'node --version && npm --version && python3 --version && id' >"$BUILD_DIR/smoke" 2>&1 ||
  {
    cat "$BUILD_DIR/smoke" >>"$LOG"
    docker image rm "$IMAGE_ID" >/dev/null 2>&1 || true
    fail "smoke test"
  }
sed 's/^/    /' "$BUILD_DIR/smoke"
step_done

step "tagging $IMAGE, removing the previous build"
OLD_ID=$(docker image inspect -f '{{.Id}}' "$IMAGE" 2>/dev/null || true)
docker tag "$IMAGE_ID" "$IMAGE"
# The previous build is dead weight once untagged; it stays if a container
# still uses it or another tag points at it.
if [[ -n $OLD_ID && $OLD_ID != "$IMAGE_ID" ]]; then
  docker image rm "$OLD_ID" >/dev/null 2>&1 || true
fi
step_done

step "removing the build directory"
remove_scratch "$BUILD_DIR"
step_done

SIZE=$(docker image inspect -f '{{.Size}}' "$IMAGE")
printf '==> stack image paas/stack built: %d MB, %ss\n' $((SIZE / 1000000)) "$(elapsed "$BUILD_T0")"
