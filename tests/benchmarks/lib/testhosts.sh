# shellcheck shell=bash
# Sourced by benchmark scripts: test hosts as the multi-host end-to-end tests make them (see
# tests/Paas.EndToEnd.Tests/Infrastructure/TestNetwork.cs and TestHost.cs): network namespaces on a bridge of
# this run's own, each with its own dockerd, joined by veth pairs. Same names, owner file and machine-wide lock
# as the tests, so either one's stale clean-up recognises the other's live run and removes a crashed one's
# leftovers. Traffic stays on the bridge and loopback. Needs root, iproute2, iptables, nsenter, dockerd.
#   testhosts_create                  the bridge paas-th-ID, gateway $TH_GATEWAY (10.213.R.1)
#   testhost_add N [REGISTRY...]      host N: netns paas-th-ID-N at 10.213.R.(N+1), its dockerd trusting REGISTRY
#   testhost_address N / testhost_docker N   its address / its DOCKER_HOST
#   testhost_exec N CMD...            runs CMD in host N's network (for a long-running one, call nsenter
#                                     yourself with &, so $! is the program and not a subshell)
#   testhost_link N up|down           takes host N off the network or puts it back (it keeps running)
#   testhosts_destroy                 everything above, gone (also on EXIT when the caller traps it)

TH_ROOT=/tmp/paas-th
TH_PREFIX=paas-th-
TH_ID=
TH_SUBNET=
TH_HOSTS=()

th_start_time() { local stat; stat=$(cat "/proc/$1/stat"); stat=${stat##*) }; awk '{print $20}' <<<"$stat"; }

testhosts_create() {
  mkdir -p "$TH_ROOT"
  exec {th_lock}>"$TH_ROOT/.lock"
  flock -w 300 "$th_lock"
  local taken subnet
  taken=$(ip -o link show; ip netns list)
  while :; do
    TH_ID=$(head -c 2 /dev/urandom | od -An -tx1 | tr -d ' \n')
    [[ $taken != *"$TH_PREFIX$TH_ID"* && ! -e $TH_ROOT/$TH_ID ]] && break
  done
  for subnet in $(seq 1 254); do
    ip -o -4 addr show | grep -q " 10\.213\.$subnet\." || { TH_SUBNET=$subnet; break; }
  done
  [ -n "$TH_SUBNET" ] || { echo "every 10.213.R.0/24 is in use" >&2; return 1; }
  mkdir -p "$TH_ROOT/$TH_ID"
  # The tests' format (Linux.Identity): this shell's pid and start time; while it runs, nobody removes the network.
  echo "$$ $(th_start_time $$)" >"$TH_ROOT/$TH_ID/owner"
  TH_GATEWAY=10.213.$TH_SUBNET.1
  ip link add "$TH_PREFIX$TH_ID" type bridge
  ip addr add "$TH_GATEWAY/24" dev "$TH_PREFIX$TH_ID"
  ip link set "$TH_PREFIX$TH_ID" up
  iptables -w -I FORWARD 1 -i "$TH_PREFIX$TH_ID" -o "$TH_PREFIX$TH_ID" -j ACCEPT
  flock -u "$th_lock"
}

testhost_name() { echo "$TH_PREFIX$TH_ID-$1"; }
testhost_address() { echo "10.213.$TH_SUBNET.$(($1 + 1))"; }
testhost_docker() { echo "unix://$TH_ROOT/$TH_ID/$1/docker.sock"; }

testhost_add() {
  local n=$1 name dir
  shift
  name=$(testhost_name "$n")
  dir=$TH_ROOT/$TH_ID/$n
  mkdir -p "$dir"
  TH_HOSTS+=("$n")
  ip netns add "$name"
  ip link add "$name" type veth peer name eth0 netns "$name"
  ip link set "$name" master "$TH_PREFIX$TH_ID" up
  ip -n "$name" addr add "$(testhost_address "$n")/24" dev eth0
  ip -n "$name" link set lo up
  ip -n "$name" link set eth0 up
  ip -n "$name" route add default via "$TH_GATEWAY"
  echo '{}' >"$dir/daemon.json"
  local args=(--config-file "$dir/daemon.json" --data-root "$dir/data" --exec-root "$dir/exec" --host "unix://$dir/docker.sock"
    --pidfile "$dir/docker.pid" --cgroup-parent "/$name" --shutdown-timeout 2 --log-level warn)
  local registry
  for registry in "$@"; do args+=(--insecure-registry "$registry"); done
  # nsenter, not `ip netns exec`: that remounts /sys, and dockerd then finds no devices cgroup.
  nsenter --net="/run/netns/$name" -- dockerd "${args[@]}" >"$dir/dockerd.log" 2>&1 &
  for _ in $(seq 1 600); do
    DOCKER_HOST=unix://$dir/docker.sock docker info >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "dockerd of host $n did not start; see $dir/dockerd.log" >&2
  return 1
}

testhost_exec() {
  local n=$1
  shift
  nsenter --net="/run/netns/$(testhost_name "$n")" -- "$@"
}

testhost_link() { ip link set "$(testhost_name "$1")" "$2"; }

testhosts_destroy() {
  [ -n "$TH_ID" ] || return 0
  local n name dir pid
  for n in "${TH_HOSTS[@]}"; do
    name=$(testhost_name "$n")
    dir=$TH_ROOT/$TH_ID/$n
    pid=$(cat "$dir/docker.pid" 2>/dev/null || true)
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      DOCKER_HOST=unix://$dir/docker.sock docker ps -aq | xargs -r env DOCKER_HOST="unix://$dir/docker.sock" docker rm -f >/dev/null 2>&1 || true
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
    fi
    # Whatever else still runs in the host's network (agents started with testhost_exec ... &).
    ip netns pids "$name" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
    find /sys/fs/cgroup -maxdepth 2 -type d -name "$name*" 2>/dev/null | sort -r | while read -r cg; do
      xargs -r kill -9 <"$cg/cgroup.procs" 2>/dev/null || true
      find "$cg" -depth -type d -exec rmdir {} \; 2>/dev/null || true
    done
    grep -o " $dir[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
    ip netns del "$name" 2>/dev/null || true
    ip link del "$name" 2>/dev/null || true
  done
  iptables -w -S | grep -- "$TH_PREFIX$TH_ID" | sed 's/^-A /-D /' | while read -r rule; do
    # shellcheck disable=SC2086 # the rule's words
    iptables -w $rule 2>/dev/null || true
  done
  ip link del "$TH_PREFIX$TH_ID" 2>/dev/null || true
  rm -rf "${TH_ROOT:?}/$TH_ID"
  TH_ID=
}
