#!/usr/bin/env bash
# make chaos (issue 18, "The chaos suite"): faults, one at a time, against a platform started the way
# users run it (deploy/run.sh, which supervises router, cell agent and controller), with the static
# fixture app at web=2 under steady load. For each fault: failed requests (non-2xx or no answer) in its
# window, seconds until whole again, and whether anything was lost (releases, config vars, app logs,
# routes). One table at the end; exit status 1 when a goal is missed.
#
# Everything is this run's own: loopback ports, a data directory under /tmp, a Redis (so it may be
# killed), a Redis prefix; all of it, and every container with this platform's label, is removed on
# exit, Ctrl-C included. Traffic goes to 127.0.0.1 only; every loop is bounded in count and time.
#
# Settings (environment):
#   CHAOS_REDEPLOY_MINUTES  how long fault 5 redeploys every 30 s under load (default 2; the issue asks 10)
#   CHAOS_RPS               steady load, requests per second (default 40)
#   CHAOS_REDIS_DOWN        seconds Redis stays down in fault 4 (default 3)
#   CHAOS_ONLY              space-separated fault functions to run (default: all), e.g. "router redis";
#                           the faults: router cell controller redis redeploy bad_pushes controller_mid_deploy
#                           registry etcd_one etcd_two disk_full standby sentinel (run sentinel after redis:
#                           after a failover the Redis fault would kill a replica)
#   CHAOS_ETCD              1: the controller keeps its state in a three-member etcd cluster of this run's own
#                           (loopback ports, $WORK/etcd); the default is 1 when an etcd fault or the standby
#                           takeover is chosen and Debian's etcd-server is installed, else 0 (SQLite, and
#                           those faults are skipped)
#   CHAOS_SENTINEL          1: every component reaches this run's Redis through three sentinels of the run's own,
#                           with a replica beside it (the default when the sentinel fault is chosen); the
#                           sentinels wait 5 s before a failover, so the Redis fault (3 s down) stays a restart
#   CHAOS_KEEP              a directory to copy the load log and platform logs to before clean-up
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../benchmarks/lib/platform.sh
source "$HERE/../benchmarks/lib/platform.sh"

REDEPLOY_MINUTES=${CHAOS_REDEPLOY_MINUTES:-2}
RPS=${CHAOS_RPS:-40}
REDIS_DOWN=${CHAOS_REDIS_DOWN:-3}
ONLY=${CHAOS_ONLY:-router cell controller redis redeploy bad_pushes controller_mid_deploy registry etcd_one etcd_two disk_full standby sentinel}
CHAOS_SENTINEL=${CHAOS_SENTINEL:-$([[ " $ONLY " == *" sentinel "* ]] && echo 1 || echo 0)}
if [ -z "${CHAOS_ETCD:-}" ]; then
  CHAOS_ETCD=0
  [[ " $ONLY " == *" etcd_"* || " $ONLY " == *" standby "* ]] && command -v etcd >/dev/null && CHAOS_ETCD=1
fi
WHOLE_LIMIT=60 # seconds a fault may take to heal before it counts as never whole
SETTLE=3       # seconds after "whole" still counted in the fault's window (late failures)
SLOW=5         # an answer that took longer than this is reported as slow (not as failed)

PREFIX="chaos-$$:"
export PAAS_REDIS_PREFIX=$PREFIX
# Limits made small for this run, so the bad-push catalogue fails fast (see fault_bad_pushes). They
# apply to every push of the run; the static fixture stages and starts well inside them.
export PAAS_MAX_PUSH_MB=2 PAAS_STAGING_TIMEOUT_SECONDS=30 PAAS_HEALTH_TIMEOUT_SECONDS=20
# The router's access log, to a file: what it answered, and how long it took, for a failed request
# (kept with CHAOS_KEEP). lib/platform.sh turns it off for the throughput benchmarks.
export PAAS_ROUTER_ACCESS_LOG=$PAAS_DATA_DIR/logs/access.log

# Buildpack fetches run as nobody (tenant isolation), so the hanging buildpack's repository and the data
# directory must be reachable by it; mktemp made $WORK 0700.
chmod 711 "$WORK"

APP=chaos-$$
HOST=$APP.localhost
LOAD_FILE=$WORK/load.log
LOAD_PID=
ROWS=()   # one per fault: "fault|failed|seconds|lost|goal|verdict"
SKIPPED=() # "fault: reason" for each fault this platform cannot have, printed under the table
ETCD_PIDS=() ETCD_ARGS=() ETCD_CLIENTS=()
STANDBY_PID= # the second controller of fault_standby
SENTINEL_PIDS=() SENTINEL_PORTS=() REPLICA_PID= REPLICA_PORT= # CHAOS_SENTINEL: the replica and three sentinels
MISSED=0
BAD_ERRORS=() # the one-sentence error of each bad push, printed under the table
IN_WINDOWS=0 # failed requests counted in some fault's window; the rest happened between faults

cleanup() {
  trap '' INT TERM
  set +e # every step runs, whatever the one before it did
  [ -n "$LOAD_PID" ] && kill "$LOAD_PID" 2>/dev/null
  if [ -n "${CHAOS_KEEP:-}" ]; then # for diagnosis: the load log and the platform's logs
    mkdir -p "$CHAOS_KEEP" && cp -r "$LOAD_FILE" "$PAAS_DATA_DIR/logs" "$WORK"/*.log "$CHAOS_KEEP/" 2>/dev/null
    echo "==> kept the load log and platform logs in $CHAOS_KEEP"
  fi
  echo "==> cleaning up (platform, Redis, etcd, containers, $WORK)"
  mountpoint -q "$PAAS_DATA_DIR/cache" 2>/dev/null && umount "$PAAS_DATA_DIR/cache"
  # etcd members are background jobs: stopped before stop_platform, whose `wait` would wait for them forever.
  local pid
  [ -n "$STANDBY_PID" ] && kill -9 "$STANDBY_PID" 2>/dev/null
  for pid in "${SENTINEL_PIDS[@]}" $REPLICA_PID; do kill -9 "$pid" 2>/dev/null; done
  for pid in "${ETCD_PIDS[@]}"; do [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; done
  stop_platform
}
trap cleanup EXIT
trap 'echo "==> interrupted"; exit 130' INT TERM

# --- measuring --------------------------------------------------------------------------------------

# failed_between A B: "F of N" for requests that finished between epoch seconds A and B; with
# ", S slow" appended when S of the answered ones took longer than SLOW seconds. A failed request is a
# non-2xx answer or none at all (refused, reset, cut short, nothing within load.py's 30 s timeout).
failed_between() {
  awk -v a="$1" -v b="$2" -v slow="$SLOW" '$1 >= a && $1 <= b { n++; if ($2 !~ /^2/) f++; else if ($3 > slow) s++ }
    END { printf "%d of %d", f, n; if (s) printf ", %d slow", s }' "$LOAD_FILE"
}
failures_of() { echo "${1%% of*}"; } # "3 of 120" -> 3

# Failure kinds in a window, e.g. "2x ERR:ConnectionRefusedError 1x 503 (at +0.4..+1.9 s)", for the log.
failure_kinds() {
  awk -v a="$1" -v b="$2" '$1 >= a && $1 <= b && $2 !~ /^2/ { k[$2]++; if (!first) first = $1; last = $1 }
    END { for (s in k) printf "%dx %s ", k[s], s; if (first && a > 0) printf "(at +%.1f..+%.1f s)", first - a, last - a }' "$LOAD_FILE"
}

http_ok() { [ "$(curl -s -o /dev/null -m 2 -w '%{http_code}' "$1")" = 200 ]; }
app_ok() { [ "$(get "$APP")" = 200 ]; }
pid_of() { cat "$PAAS_DATA_DIR/run/$1.pid" 2>/dev/null || true; }
rcli() { redis-cli -p "$(redis_primary_port)" "$@"; }
# The port of the Redis primary: this run's Redis, or with Sentinel the one the sentinels name now.
redis_primary_port() {
  local port
  if ((CHAOS_SENTINEL)) && port=$(redis-cli -p "${SENTINEL_PORTS[0]}" sentinel get-master-addr-by-name paas 2>/dev/null | sed -n 2p) && [ -n "$port" ]; then
    echo "$port"
  else
    echo "$REDIS_PORT"
  fi
}
router_endpoints() {
  curl -s -m 2 "http://127.0.0.1:$ADMIN_PORT/routes" |
    python3 -c "import json,sys; print(len(json.load(sys.stdin)['hosts'].get('$HOST',{}).get('endpoints',[])))" 2>/dev/null || echo 0
}

# wait_whole START CHECK...: polls (every 0.1 s, up to WHOLE_LIMIT) until every CHECK command succeeds
# and the app answers 200 through the router with both endpoints in the router's table; prints the
# seconds since START, or "never".
wait_whole() {
  local start=$1 deadline
  shift
  deadline=$(($(date +%s) + WHOLE_LIMIT))
  while (($(date +%s) < deadline)); do
    if "$@" && app_ok && [ "$(router_endpoints)" -ge 2 ]; then
      elapsed "$start"
      return 0
    fi
    sleep 0.1
  done
  echo never
}
all_of() { local c; for c in "$@"; do eval "$c" || return 1; done; }

# --- nothing lost -----------------------------------------------------------------------------------

# snapshot FILE: what must survive a fault. Releases (not failed deploys; all of them: `paas releases`
# shows 20 unless told) and config as the CLI shows them, the app's routes and host in Redis, and the ids
# of the app's last 20 log lines (newer lines keep coming under load, and the stream is capped, so the
# check is that these are still there, not that the length is equal), with the stream's count of lines
# ever added.
snapshot() {
  local out=$1
  {
    # Releases only: `paas releases` also lists deploys that failed or were rolled back (by their status).
    echo "releases $(paas releases -a "$APP" -n 1000 --json | python3 -c 'import json,sys; print(" ".join(sorted(str(r.get("version")) for r in json.load(sys.stdin) if r.get("status", "released") == "released")))')"
    echo "config $(paas config -a "$APP" --json | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin), sort_keys=True))')"
    echo "routes $(rcli hgetall "${PREFIX}routes" | grep -c "\"$APP\"" || true)"
    echo "host $(rcli hget "${PREFIX}hosts" "$HOST")"
  } >"$out"
  rcli xrevrange "${PREFIX}logs:$APP" + - COUNT 20 | grep -E '^[0-9]+-[0-9]+$' >"$out.logs" || true
  stream_info entries-added >"$out.added"
}
# stream_info FIELD: one field of XINFO STREAM for the app's log stream (entries-added, first-entry's id).
stream_info() {
  rcli xinfo stream "${PREFIX}logs:$APP" | awk -v f="$1" 'take { print; exit } $0 == f { take = 1 }'
}

# lost_since BEFORE [EXTRA_RELEASES]: "nothing" when the state now matches BEFORE (with EXTRA_RELEASES
# new releases, for the redeploy fault), otherwise what differs.
lost_since() {
  local before=$1 extra=${2:-0} now_file=$WORK/snapshot.now missing=0 id problems=()
  snapshot "$now_file"
  local releases_before releases_now
  releases_before=$(sed -n 's/^releases //p' "$before" | wc -w)
  releases_now=$(sed -n 's/^releases //p' "$now_file" | wc -w)
  # Every release that was there is still there, and exactly EXTRA_RELEASES more.
  # shellcheck disable=SC2013 # the versions are words on one line
  for id in $(sed -n 's/^releases //p' "$before"); do
    grep -qw "$id" <(sed -n 's/^releases //p' "$now_file") || problems+=("release v$id")
  done
  ((releases_now == releases_before + extra)) || problems+=("releases $releases_before+$extra->$releases_now")
  [ "$(grep '^config' "$before")" = "$(grep '^config' "$now_file")" ] || problems+=("config")
  [ "$(grep '^host' "$before")" = "$(grep '^host' "$now_file")" ] || problems+=("host")
  [ "$(sed -n 's/^routes //p' "$now_file")" -ge 2 ] || problems+=("routes ($(sed -n 's/^routes //p' "$now_file"))")
  # A line older than the stream's first one now was trimmed by the cap (10,000 lines: under this load, with
  # the router's access lines, about two minutes), not lost, as long as the count of lines ever added has
  # only grown: a Redis that came back empty starts that count again.
  local first added_before added_now trimmed=0
  first=$(rcli xinfo stream "${PREFIX}logs:$APP" | awk '$0 == "first-entry" { getline; print; exit }')
  added_before=$(cat "$before.added" 2>/dev/null || echo 0) added_now=$(stream_info entries-added)
  while read -r id; do
    [ -n "$(rcli xrange "${PREFIX}logs:$APP" "$id" "$id")" ] && continue
    if [ -n "$first" ] && ((${added_now:-0} > ${added_before:-0})) && older_id "$id" "$first"; then
      trimmed=$((trimmed + 1))
    else
      missing=$((missing + 1))
    fi
  done <"$before.logs"
  ((missing == 0)) || problems+=("$missing of $(wc -l <"$before.logs") log lines")
  ((trimmed == 0)) || echo "    ($trimmed of the log lines checked were trimmed by the stream's cap: $((added_now - added_before)) lines added meanwhile)" >&2
  [ -s "$before.logs" ] || problems+=("no log lines to check")
  if ((${#problems[@]})); then echo "lost: ${problems[*]}"; else echo "nothing"; fi
}

older_id() { # A B: stream id A is older than B
  local a=$1 b=$2
  ((${a%-*} < ${b%-*} || (${a%-*} == ${b%-*} && ${a#*-} < ${b#*-})))
}

# record FAULT FAILED SECONDS LOST GOAL PASSED(0/1)
record() {
  local verdict=PASS
  if [ "$6" != 1 ]; then
    verdict=MISS
    MISSED=1
  fi
  ROWS+=("$1|$2|$3|$4|$5|$verdict")
  IN_WINDOWS=$((IN_WINDOWS + $(failures_of "$2")))
  echo "    $1: $2 failed; whole: $3; lost: $4 -> $verdict"
}

# --- the faults -------------------------------------------------------------------------------------

# kill_supervised NAME HEALTH_URL: SIGKILLs one supervised process (router, cell or controller) and
# waits until it is back and healthy. A new pid must be in its pid file: the old one's port may still
# answer for an instant. Sets K_T0 (the kill), K_SECONDS (to whole), K_T1 (end of the window), K_WINDOW.
kill_supervised() {
  local name=$1 health=$2 old
  old=$(pid_of "$name")
  snapshot "$WORK/before-$name"
  K_T0=$(now)
  kill -9 "$old"
  K_SECONDS=$(wait_whole "$K_T0" all_of "[ -n \"\$(pid_of $name)\" ]" "[ \"\$(pid_of $name)\" != $old ]" "http_ok $health")
  sleep "$SETTLE"
  K_T1=$(now)
  K_WINDOW=$(failed_between "$K_T0" "$K_T1")
  echo "    failures: $(failure_kinds "$K_T0" "$K_T1")"
}

# 1. The router is the data plane: while it restarts nobody answers on its port, so failures are
#    expected, but only until it is whole again (supervise.sh restarts it within ~1 s; .NET start-up
#    takes the rest). 20 s is the readiness bound the supervision tests hold it to.
fault_router() {
  echo "==> 1. SIGKILL the router under load"
  local lost late ok=1
  kill_supervised router "http://127.0.0.1:$ADMIN_PORT/healthz"
  lost=$(lost_since "$WORK/before-router")
  if [ "$K_SECONDS" = never ]; then
    ok=0
  else
    late=$(failed_between "$(awk -v a="$K_T0" -v s="$K_SECONDS" 'BEGIN { printf "%.3f", a + s }')" "$K_T1")
    echo "    after whole: $late failed"
    awk -v s="$K_SECONDS" 'BEGIN { exit !(s <= 20) }' && [ "$(failures_of "$late")" = 0 ] || ok=0
  fi
  [ "$lost" = nothing ] || ok=0
  record "SIGKILL router" "$K_WINDOW" "$K_SECONDS" "$lost" "whole <= 20 s, failures only until whole" "$ok"
}

# 2. The cell agent manages containers but does not carry traffic: the router keeps a silent cell's
#    endpoints while they answer, so nothing may fail.
fault_cell() {
  echo "==> 2. SIGKILL the cell agent under load"
  local lost ok=1
  kill_supervised cell "http://127.0.0.1:$CELL_PORT/healthz"
  lost=$(lost_since "$WORK/before-cell")
  [ "$K_SECONDS" != never ] && [ "$(failures_of "$K_WINDOW")" = 0 ] && [ "$lost" = nothing ] || ok=0
  record "SIGKILL cell agent" "$K_WINDOW" "$K_SECONDS" "$lost" "0 failed" "$ok"
}

# 3. The controller is the control plane: its crash must not touch serving apps.
fault_controller() {
  echo "==> 3. SIGKILL the controller under load"
  local lost ok=1
  kill_supervised controller "http://127.0.0.1:$API_PORT/healthz"
  lost=$(lost_since "$WORK/before-controller")
  [ "$K_SECONDS" != never ] && [ "$(failures_of "$K_WINDOW")" = 0 ] && [ "$lost" = nothing ] || ok=0
  record "SIGKILL controller" "$K_WINDOW" "$K_SECONDS" "$lost" "0 failed" "$ok"
}

# 4. Redis holds routes, cell registrations and app logs. The router serves from its in-memory table
#    while Redis is away; the append-only file brings everything back when Redis restarts on it.
fault_redis() {
  echo "==> 4. SIGKILL Redis under load, down ${REDIS_DOWN} s, restarted on the same directory"
  local t0 t1 seconds window lost ok=1
  snapshot "$WORK/before-redis"
  sleep 1.5 # appendfsync everysec: what was acknowledged a second ago is on disk
  t0=$(now)
  kill_redis
  sleep "$REDIS_DOWN"
  start_redis
  # shellcheck disable=SC2016 # all_of evaluates these later
  seconds=$(wait_whole "$t0" all_of '[ "$(rcli ping)" = PONG ]' "http_ok http://127.0.0.1:$ADMIN_PORT/healthz" \
    "http_ok http://127.0.0.1:$CELL_PORT/healthz" "http_ok http://127.0.0.1:$API_PORT/healthz" \
    "[ \"\$(rcli exists ${PREFIX}cells:local:alive)\" = 1 ]")
  sleep "$SETTLE"
  t1=$(now)
  window=$(failed_between "$t0" "$t1")
  echo "    failures: $(failure_kinds "$t0" "$t1")"
  lost=$(lost_since "$WORK/before-redis")
  [ "$seconds" != never ] && [ "$(failures_of "$window")" = 0 ] && [ "$lost" = nothing ] || ok=0
  record "SIGKILL Redis (${REDIS_DOWN} s down, AOF)" "$window" "$seconds" "$lost" "0 failed, nothing lost" "$ok"
}

# 5. Rolling deploys are routine: a redeploy every 30 s under load must not cost a single request.
fault_redeploy() {
  local rounds=$((REDEPLOY_MINUTES * 2)) t0 t1 next i pushed=0 failed_pushes=0 window lost ok=1
  echo "==> 5. a redeploy every 30 s for $REDEPLOY_MINUTES min under load ($rounds pushes)"
  snapshot "$WORK/before-redeploy"
  t0=$(now)
  next=$(date +%s)
  for ((i = 1; i <= rounds; i++)); do
    (
      cd "$WORK/$APP"
      sed -i "s/Hello from static v[0-9]*/Hello from static v$((i + 1))/" index.html
      git -c user.name=chaos -c user.email=chaos@localhost commit -qam "redeploy $i"
    )
    if (cd "$WORK/$APP" && git push -q paas main >"$WORK/redeploy-$i.log" 2>&1); then
      pushed=$((pushed + 1))
    else
      failed_pushes=$((failed_pushes + 1))
      echo "    push $i failed:"
      sed 's/^/      /' "$WORK/redeploy-$i.log" | tail -n 5
    fi
    echo "    push $i done after $(elapsed "$t0") s; serving: $(curl -s -H "Host: $HOST" "http://127.0.0.1:$ROUTER_PORT/" | grep -o 'static v[0-9]*')"
    next=$((next + 30))
    # Wait for the next 30 s tick (bounded: at most 30 s), unless this was the last push.
    while ((i < rounds && $(date +%s) < next)); do sleep 0.5; done
  done
  sleep "$SETTLE"
  t1=$(now)
  window=$(failed_between "$t0" "$t1")
  echo "    failures: $(failure_kinds "$t0" "$t1")"
  lost=$(lost_since "$WORK/before-redeploy" "$pushed")
  [ "$(failures_of "$window")" = 0 ] && ((failed_pushes == 0)) && [ "$lost" = nothing ] || ok=0
  record "redeploy every 30 s, $REDEPLOY_MINUTES min ($pushed of $rounds pushed)" "$window" "-" "$lost" "0 non-2xx, every push ok" "$ok"
}

# --- 6. the bad-push catalogue ----------------------------------------------------------------------
# Each bad push is one commit on top of what is serving; it must be refused with one sentence, and the
# release that was serving keeps serving, under load. The commit is dropped afterwards, so the next one
# starts from the serving commit again.

# bad_push NAME PREPARE: PREPARE (a function, run in the app's work tree) makes the bad change; the
# change is committed and pushed.
bad_push() {
  local name=$1 prepare=$2 t0 t1 window lost rc=0 error body ok=1
  echo "==> 6. bad push: $name"
  snapshot "$WORK/before-bad"
  body=$(curl -s -H "Host: $HOST" "http://127.0.0.1:$ROUTER_PORT/" | grep -o 'static v[0-9]*')
  t0=$(now)
  (
    cd "$WORK/$APP"
    "$prepare"
    git add -A
    git -c user.name=chaos -c user.email=chaos@localhost commit -qm "bad push: $name"
  )
  if [ "$prepare" = corrupt_pack ]; then
    (send_corrupt_pack) >"$WORK/bad.log" 2>&1 || rc=$?
    # pkt-lines: four hex digits of length, then "unpack <reason>" and "ng <ref> <reason>".
    error=$(sed -n 's/^[0-9a-f]\{4\}\(unpack .*\)/\1/p; s/^[0-9a-f]\{4\}\(ng .*\)/\1/p' "$WORK/bad.log" | paste -sd ';' | sed 's/;/; /')
  else
    (cd "$WORK/$APP" && timeout 300 git push paas main) >"$WORK/bad.log" 2>&1 || rc=$?
    error=$(grep -m 1 'Push rejected' "$WORK/bad.log" | sed 's/^remote: *! *//; s/ *$//' || true)
  fi
  t1=$(now)
  (cd "$WORK/$APP" && git reset -q --hard HEAD~1 && git clean -qfdx)
  echo "    push exit status $rc; error: ${error:-<none found; output in $WORK/bad.log>}"
  if ((rc == 0)) || [ -z "$error" ]; then
    ok=0
    tail -n 15 "$WORK/bad.log" | sed 's/^/      /'
  fi
  window=$(failed_between "$t0" "$t1")
  [ "$(failures_of "$window")" = 0 ] || { ok=0; echo "    failures: $(failure_kinds "$t0" "$t1")"; }
  # The old release still serving: the same body, and no release was added.
  [ "$(curl -s -H "Host: $HOST" "http://127.0.0.1:$ROUTER_PORT/" | grep -o 'static v[0-9]*')" = "$body" ] || ok=0
  lost=$(lost_since "$WORK/before-bad")
  [ "$lost" = nothing ] || ok=0
  BAD_ERRORS+=("$name: ${error:-<none>}")
  record "bad push: $name" "$window" "push $(elapsed "$t0") s" "$lost" "refused, old release serves" "$ok"
}

# The pack git would send for a new commit, with its object data overwritten: built by hand and sent
# to git-receive-pack over smart HTTP, because git itself never sends a broken pack.
corrupt_pack() { echo "corrupt" >corrupt.txt; }
send_corrupt_pack() {
  local token url old new
  cd "$WORK/$APP"
  token=$(printf 'protocol=http\nhost=127.0.0.1\n\n' | paas git:credential get | sed -n 's/^password=//p')
  url=$(git remote get-url paas)
  old=$(git rev-parse HEAD~1) new=$(git rev-parse HEAD)
  printf '%s\n^%s\n' "$new" "$old" | git pack-objects --stdout --revs >"$WORK/good.pack" 2>/dev/null
  python3 - "$WORK/good.pack" "$WORK/bad.body" "$old" "$new" <<'EOF'
import sys
pack, body, old, new = sys.argv[1:]
data = bytearray(open(pack, "rb").read())
for i in range(16, len(data) - 20):  # keep the header, ruin every object
    data[i] ^= 0x5A
command = f"{old} {new} refs/heads/main\0report-status\n".encode()
with open(body, "wb") as f:
    f.write(b"%04x" % (len(command) + 4) + command + b"0000" + bytes(data))
EOF
  curl -sS -m 60 -u "paas:$token" -H 'Content-Type: application/x-git-receive-pack-request' \
    --data-binary @"$WORK/bad.body" "$url/git-receive-pack" | tr -c '[:print:]\n' ' ' | tee "$WORK/bad.response"
  echo
  # Like git push: success only when the server reports the ref as updated.
  grep -q "ok refs/heads/main" "$WORK/bad.response"
}

oversize_push() { head -c $((3 * 1024 * 1024)) /dev/urandom >blob.bin; } # PAAS_MAX_PUSH_MB=2
symlink_escape() { ln -s /etc/passwd leak; }
hanging_buildpack() { # PAAS_STAGING_TIMEOUT_SECONDS=30
  local bp=$WORK/hang-buildpack
  if [ ! -d "$bp/.git" ]; then
    cp -r "$ROOT/tests/fixtures/buildpacks/hang" "$bp"
    (cd "$bp" && git init -q -b main && git add -A && git -c user.name=chaos -c user.email=chaos@localhost commit -qm hang)
    chmod -R a+rX "$bp"
  fi
  echo "file://$bp" >.buildpacks
}
never_binds() { echo "web: sleep 1000" >Procfile; } # PAAS_HEALTH_TIMEOUT_SECONDS=20
out_of_memory() { echo "web: python3 -c \"x = b'x' * (2 << 30)\"" >Procfile; } # 2 GiB, over the 512 MB limit
fork_bomb() { echo "web: bash -c 'bomb() { bomb | bomb & }; bomb; sleep 600'" >Procfile; } # pids limit 256

fault_bad_pushes() {
  bad_push "corrupt pack" corrupt_pack
  bad_push "oversize push (3 MB, limit 2 MB)" oversize_push
  bad_push "symlink escaping the app" symlink_escape
  bad_push "hanging buildpack (staging limit 30 s)" hanging_buildpack
  bad_push "app that never binds \$PORT (health limit 20 s)" never_binds
  bad_push "app that runs out of memory" out_of_memory
  bad_push "fork bomb" fork_bomb
}

# --- 7. the controller killed mid-deploy --------------------------------------------------------------
# A push under load; when its rollout begins ("Launching vN" in the push's output) the controller is
# SIGKILLed and the supervisor starts it again. The old release serves throughout; the restarted
# controller resumes the rollout (the image exists) or rolls it back, and its record says which.

release_status() { # VERSION: that release's status and reason as `paas releases --json` has them
  # A deploy that failed keeps the number the next one gets too: the newest record of that number.
  paas releases -a "$APP" -n 1000 --json 2>/dev/null | python3 -c "import json,sys
rs = [r for r in json.load(sys.stdin) if r['version'] == $1]
if rs:
    r = max(rs, key=lambda r: r.get('created_at') or '')
    print(r.get('status', '?') + (', resumed' if r.get('resumed') else '') + (': ' + r['status_reason'] if r.get('status_reason') else ''))" 2>/dev/null || true
}

fault_controller_mid_deploy() {
  echo "==> 7. SIGKILL the controller mid-deploy (at the start of the rollout) under load"
  local t0 t1 seconds window lost status version old extra=0 ok=1 deadline page
  snapshot "$WORK/before-mid-deploy"
  page=$(grep -o 'static v[0-9]*' "$WORK/$APP/index.html" | tr -dc 0-9)
  (
    cd "$WORK/$APP"
    sed -i "s/Hello from static v[0-9]*/Hello from static v$((page + 1))/" index.html
    git -c user.name=chaos -c user.email=chaos@localhost commit -qam "mid-deploy $((page + 1))"
  )
  (cd "$WORK/$APP" && timeout 300 git push paas main >"$WORK/mid-deploy.log" 2>&1) &
  local push=$!
  # The release number is the one the push launches (a failed deploy does not use one up, so it cannot be
  # told beforehand).
  deadline=$(($(date +%s) + 120))
  until grep -q -- "Launching v[0-9]" "$WORK/mid-deploy.log" 2>/dev/null || (($(date +%s) > deadline)); do sleep 0.05; done
  version=$(grep -o -- "Launching v[0-9]*" "$WORK/mid-deploy.log" | head -n 1 | tr -dc 0-9)
  version=${version:-0}
  old=$(pid_of controller)
  t0=$(now)
  kill -9 "$old"
  echo "    controller killed $(grep -c . "$WORK/mid-deploy.log") lines into the push: $(grep -o -- "-----> Launching v[0-9]*.*" "$WORK/mid-deploy.log" | head -n 1)"
  wait "$push" || true
  # Whole: the controller is back and v$version is settled (released, failed or rolled back).
  # shellcheck disable=SC2016 # all_of evaluates these later
  seconds=$(wait_whole "$t0" all_of "[ \"\$(pid_of controller)\" != $old ]" "http_ok http://127.0.0.1:$API_PORT/healthz" \
    "release_status $version | grep -Eq '^(released|failed|rolled back)'")
  status=$(release_status "$version")
  echo "    v$version: ${status:-<no record>}"
  sleep "$SETTLE"
  t1=$(now)
  window=$(failed_between "$t0" "$t1")
  echo "    failures: $(failure_kinds "$t0" "$t1")"
  [[ "$status" == released* ]] && extra=1
  lost=$(lost_since "$WORK/before-mid-deploy" "$extra")
  [ "$seconds" != never ] && [ "$(failures_of "$window")" = 0 ] && [ "$lost" = nothing ] || ok=0
  [[ "$status" == "released, resumed"* || "$status" == "rolled back"* ]] || ok=0
  record "SIGKILL controller mid-deploy (v$version ${status%%:*})" "$window" "$seconds" "$lost" "0 failed, deploy resumed or rolled back" "$ok"
}

# --- 8. the registry ---------------------------------------------------------------------------------
# deploy/run.sh supervises the platform's registry (here on a spare port, lib/platform.sh); cells pull
# releases from it. Killing it must not touch serving apps; it is back once its root answers (after the
# garbage collection its start runs), and a push afterwards goes through it again.
fault_registry() {
  echo "==> 8. SIGKILL the registry under load"
  local reason
  if [ -z "$(pid_of registry)" ]; then
    reason="deploy/run.sh started no registry (PAAS_REGISTRY names another, or PAAS_REGISTRY_PORT is 0)"
    echo "    skipped: $reason"
    SKIPPED+=("SIGKILL registry: $reason")
    return
  fi
  local lost ok=1 pushed=0 version
  # Its root answers 200 without credentials once it serves (what run.sh's readiness check waits for).
  kill_supervised registry "http://127.0.0.1:$REGISTRY_PORT/"
  version=$(push_version registry) && pushed=1
  echo "    push after the restart: $( ((pushed)) && echo "ok, serving v$version" || echo "failed: $(tail -n 3 "$WORK/push-registry.log" | tr '\n' ' ')")"
  lost=$(lost_since "$WORK/before-registry" "$pushed")
  [ "$K_SECONDS" != never ] && [ "$(failures_of "$K_WINDOW")" = 0 ] && [ "$lost" = nothing ] && ((pushed)) || ok=0
  record "SIGKILL registry (push afterwards $( ((pushed)) && echo ok || echo failed))" "$K_WINDOW" "$K_SECONDS" "$lost" "0 failed, a push afterwards ok" "$ok"
}

# push_version LABEL: commits a new version of the page and pushes it (log: $WORK/push-LABEL.log); prints the
# version once the router serves it (bounded: 60 s), fails when the push or the serving does.
push_version() {
  local label=$1 version deadline last page
  # The page's number: one more than the last release's and than the page's now (a push that failed
  # left its commit behind), so the page always changes and its commit is new.
  last=$(paas releases -a "$APP" -n 1000 --json | python3 -c 'import json,sys; print(max(r["version"] for r in json.load(sys.stdin)))')
  page=$(grep -o 'static v[0-9]*' "$WORK/$APP/index.html" | tr -dc 0-9)
  version=$(((page > last ? page : last) + 1))
  (
    cd "$WORK/$APP" &&
      sed -i "s/Hello from static v[0-9]*/Hello from static v$version/" index.html &&
      git -c user.name=chaos -c user.email=chaos@localhost commit -qam "$label $version" >"$WORK/push-$label.log" 2>&1 &&
      timeout 300 git push paas main >>"$WORK/push-$label.log" 2>&1
  ) || return 1
  deadline=$(($(date +%s) + 60))
  until curl -s -H "Host: $HOST" "http://127.0.0.1:$ROUTER_PORT/" | grep -q "static v$version\b"; do
    (($(date +%s) < deadline)) || return 1
    sleep 0.2
  done
  echo "$version"
}

# --- 9, 10. etcd: one member of three killed, then two --------------------------------------------------
# With CHAOS_ETCD=1 the controller's state lives in this run's three-member cluster. One member down
# changes nothing; two down leaves no quorum: writes are refused with a clear message, reads (served
# by the live member) and routing (Redis) go on. A write is `paas config:set` on a probe app that has
# no release (so it rolls nothing out); a read is `paas releases`.

start_etcd_cluster() {
  local i peers=() clients=() cluster=""
  for i in 0 1 2; do peers+=("$(free_port)"); clients+=("$(free_port)"); done
  for i in 0 1 2; do cluster+="${cluster:+,}e$i=http://127.0.0.1:${peers[$i]}"; done
  mkdir -p "$WORK/etcd"
  for i in 0 1 2; do
    ETCD_CLIENTS[i]=http://127.0.0.1:${clients[$i]}
    ETCD_ARGS[i]="--name e$i --data-dir $WORK/etcd/e$i --listen-client-urls ${ETCD_CLIENTS[$i]} --advertise-client-urls ${ETCD_CLIENTS[$i]} --listen-peer-urls http://127.0.0.1:${peers[$i]} --initial-advertise-peer-urls http://127.0.0.1:${peers[$i]} --initial-cluster $cluster --initial-cluster-token chaos-$$ --initial-cluster-state new"
    start_etcd_member "$i"
  done
  for _ in $(seq 1 150); do
    ETCDCTL_API=3 etcdctl --endpoints "${ETCD_CLIENTS[0]}" endpoint health >/dev/null 2>&1 && break
    sleep 0.1
  done
  export PAAS_ETCD_ENDPOINTS PAAS_ETCD_PREFIX="/chaos-$$/"
  PAAS_ETCD_ENDPOINTS=$(IFS=,; echo "${ETCD_CLIENTS[*]}")
  echo "==> etcd: three members at $PAAS_ETCD_ENDPOINTS"
}
start_etcd_member() { # INDEX (restarts it on its data directory)
  # shellcheck disable=SC2086 # the arguments are words
  etcd ${ETCD_ARGS[$1]} >>"$WORK/etcd-e$1.log" 2>&1 &
  ETCD_PIDS[$1]=$!
}
kill_etcd_member() { kill -9 "${ETCD_PIDS[$1]}" 2>/dev/null || true; wait "${ETCD_PIDS[$1]}" 2>/dev/null || true; ETCD_PIDS[$1]=; }
etcd_write() { paas config:set "CHAOS_PROBE=$1" -a "$APP-probe" >"$WORK/etcd-write.log" 2>&1; }
etcd_read() { paas releases -a "$APP" -n 1000 --json >/dev/null 2>"$WORK/etcd-read.log"; }

etcd_skipped() {
  local reason="the controller runs on SQLite in this run (CHAOS_ETCD=0, or Debian's etcd-server is not installed)"
  echo "    skipped: $reason"
  SKIPPED+=("$1: $reason")
}

fault_etcd_one() {
  echo "==> 9. SIGKILL one etcd member of three under load"
  ((CHAOS_ETCD)) || { etcd_skipped "etcd, one member of three killed"; return; }
  local t0 t1 window lost wrote=0 read=0 ok=1 seconds
  snapshot "$WORK/before-etcd-one"
  t0=$(now)
  kill_etcd_member 2
  etcd_write one && wrote=1
  etcd_read && read=1
  echo "    with one member down: write $( ((wrote)) && echo ok || echo "refused: $(tail -n 1 "$WORK/etcd-write.log")"), read $( ((read)) && echo ok || echo failed)"
  start_etcd_member 2
  # shellcheck disable=SC2016 # all_of evaluates these later
  seconds=$(wait_whole "$t0" all_of "ETCDCTL_API=3 etcdctl --endpoints ${ETCD_CLIENTS[2]} endpoint health >/dev/null 2>&1")
  sleep "$SETTLE"
  t1=$(now)
  window=$(failed_between "$t0" "$t1")
  lost=$(lost_since "$WORK/before-etcd-one")
  ((wrote && read)) && [ "$seconds" != never ] && [ "$(failures_of "$window")" = 0 ] && [ "$lost" = nothing ] || ok=0
  record "SIGKILL etcd, 1 of 3 (writes $( ((wrote)) && echo ok || echo refused), reads $( ((read)) && echo ok || echo failed))" "$window" "$seconds" "$lost" "0 failed, writes and reads go on" "$ok"
}

fault_etcd_two() {
  echo "==> 10. SIGKILL two etcd members of three under load"
  ((CHAOS_ETCD)) || { etcd_skipped "etcd, two members of three killed"; return; }
  local t0 t1 window lost refused=0 read=0 ok=1 seconds message
  snapshot "$WORK/before-etcd-two"
  t0=$(now)
  kill_etcd_member 1
  kill_etcd_member 2
  etcd_write two || refused=1
  message=$(grep -v '^\s*$' "$WORK/etcd-write.log" | tail -n 1)
  etcd_read && read=1
  echo "    with two members down: write $( ((refused)) && echo "refused: $message" || echo "accepted (!)"), read $( ((read)) && echo ok || echo "failed: $(tail -n 1 "$WORK/etcd-read.log")")"
  sleep 5 # routing must go on while the store has no quorum, not only for an instant
  start_etcd_member 1
  start_etcd_member 2
  # Whole: a write goes through again.
  seconds=$(wait_whole "$t0" all_of "etcd_write back")
  sleep "$SETTLE"
  t1=$(now)
  window=$(failed_between "$t0" "$t1")
  lost=$(lost_since "$WORK/before-etcd-two")
  # A clear message says why; "The API answered 500" says only that something broke.
  ((refused && read)) && [ -n "$message" ] && [[ "$message" != *"answered 500"* ]] && [ "$seconds" != never ] && [ "$(failures_of "$window")" = 0 ] && [ "$lost" = nothing ] || ok=0
  record "SIGKILL etcd, 2 of 3 (writes $( ((refused)) && echo refused || echo accepted), reads $( ((read)) && echo ok || echo failed))" "$window" "$seconds" "$lost" "0 failed, writes refused clearly, reads go on" "$ok"
  BAD_ERRORS+=("etcd without quorum, paas config:set: ${message:-<none>}")
}

# --- 11. the staging cell's disk fills up -----------------------------------------------------------
# The build cache ($PAAS_DATA_DIR/cache, where the cell's staging writes) on a 16 MB tmpfs, and a push
# whose buildpack writes 64 MB there: refused with "The cell ran out of disk space …", the old release
# serving, nothing else harmed. The tmpfs goes afterwards (the cache under it was only hidden).
fault_disk_full() {
  echo "==> 11. the staging cell's disk fills up during a push"
  local cache=$PAAS_DATA_DIR/cache reason
  mkdir -p "$cache"
  if ! mount -t tmpfs -o size=16m,mode=0755 chaos-cache "$cache" 2>"$WORK/mount.log"; then
    reason="could not mount a tmpfs on $cache ($(head -n 1 "$WORK/mount.log")): run as root"
    echo "    skipped: $reason"
    SKIPPED+=("staging cell disk full: $reason")
    return
  fi
  local fill=$WORK/fill-buildpack
  if [ ! -d "$fill/.git" ]; then
    cp -r "$ROOT/tests/fixtures/buildpacks/fill-cache" "$fill"
    (cd "$fill" && git init -q -b main && git add -A && git -c user.name=chaos -c user.email=chaos@localhost commit -qm fill)
    chmod -R a+rX "$fill"
  fi
  fill_cache() { echo "file://$fill" >.buildpacks; }
  bad_push "staging cell disk full (16 MB cache, build writes 64 MB)" fill_cache
  umount "$cache" || true
  [[ "${BAD_ERRORS[-1]}" == *"The cell ran out of disk space"* ]] || {
    MISSED=1
    ROWS[-1]=${ROWS[-1]%|*}"|MISS (not the disk-space sentence)"
  }
}

# --- 12. standby controller takeover -----------------------------------------------------------------
# A second controller on the same etcd (its own data directory and port, the same cell secret and
# registry), started here as a standby, as StandbyControllerTests starts one. It is made the leader by a
# graceful restart of the supervised controller (which resigns its lease; its supervisor starts it again,
# as a standby), and a push through the supervised one, forwarded to the leader, is copied back to it.
# Then the leader is SIGKILLed and never comes back (a lost host): the supervised controller must lead
# within 10 s, take a config write, and take a push to the same app (its repository intact), while the
# router answers every request.
controller_role() { # URL: the role line of that controller's /healthz ("role: leader; leader: URL")
  curl -s -m 2 "$1/healthz" 2>/dev/null | sed -n 2p
}
wait_role() { # URL PREFIX SECONDS: until the role line starts with PREFIX; fails after SECONDS
  local deadline=$(($(date +%s) + $3))
  until [[ "$(controller_role "$1")" == "$2"* ]]; do
    (($(date +%s) < deadline)) || return 1
    sleep 0.1
  done
}

fault_standby() {
  echo "==> 12. standby controller takeover: SIGKILL the leading controller under load"
  ((CHAOS_ETCD)) || { etcd_skipped "standby controller takeover"; return; }
  local port url dir t0 t1 window lost takeover=never wrote=never version1 version2 pushed=0 ok=1 api=http://127.0.0.1:$API_PORT
  port=$(free_port) url=http://127.0.0.1:$port dir=$WORK/standby
  mkdir -p "$dir"
  snapshot "$WORK/before-standby"
  t0=$(now)
  # Read before the command: its own PAAS_DATA_DIR would apply to what follows it on the line.
  local secret user password
  secret=$(cat "$PAAS_DATA_DIR/cell-secret") user=$(cat "$PAAS_DATA_DIR/registry/username") password=$(cat "$PAAS_DATA_DIR/registry/password")
  PAAS_DATA_DIR=$dir PAAS_API_PORT=$port PAAS_API_URL=$url PAAS_API_TLS_PORT=0 PAAS_CONTROLLER_ADDRESS=$url \
    PAAS_CELL_SECRET=$secret PAAS_REGISTRY=127.0.0.1:$REGISTRY_PORT PAAS_REGISTRY_USERNAME=$user PAAS_REGISTRY_PASSWORD=$password \
    dotnet "$(bin src/Paas.Controller Paas.Controller)" >"$WORK/standby.log" 2>&1 &
  STANDBY_PID=$!
  if ! wait_role "$url" "role: standby; leader: http" 60; then
    echo "    the second controller did not stand by: $(controller_role "$url"); $(tail -n 3 "$WORK/standby.log")"
    record "standby controller takeover" "$(failed_between "$t0" "$(now)")" never "-" "takeover <= 10 s, then a write and a push; 0 failed" 0
    return
  fi
  # A standby fetches every repository from the leader after its start: the hand-over waits for that copy.
  local head deadline=$(($(date +%s) + 60))
  head=$(git -C "$WORK/$APP" rev-parse HEAD)
  until [ "$(git --git-dir "$dir/repos/$APP.git" rev-parse main 2>/dev/null)" = "$head" ]; do
    (($(date +%s) < deadline)) || break
    sleep 0.2
  done
  # The hand-over: SIGTERM makes the supervised controller resign; the standby leads at its next round.
  kill -TERM "$(pid_of controller)"
  if ! wait_role "$url" "role: leader" 30 || ! wait_role "$api" "role: standby; leader: $url" 60; then
    echo "    the hand-over did not happen: $url: $(controller_role "$url"); $api: $(controller_role "$api")"
    record "standby controller takeover" "$(failed_between "$t0" "$(now)")" never "-" "takeover <= 10 s, then a write and a push; 0 failed" 0
    return
  fi
  echo "    $url leads after a graceful restart of the supervised controller, which stands by"
  # A push while the second controller leads: through the standby, forwarded, copied back to it.
  version1=$(push_version standby-1) && pushed=1
  echo "    push through the standby: $( ((pushed)) && echo "serving v$version1; $(grep -o 'Repository copied to [0-9]* standby controllers*' "$WORK/push-standby-1.log" || echo 'no copy reported')" || echo "failed: $(tail -n 3 "$WORK/push-standby-1.log" | tr '\n' ' ')")"
  local t_kill
  t_kill=$(now)
  kill -9 "$STANDBY_PID"
  if wait_role "$api" "role: leader" 60; then
    takeover=$(elapsed "$t_kill")
    deadline=$(($(date +%s) + 30))
    while (($(date +%s) < deadline)); do
      if paas config:set "CHAOS_TAKEOVER=$takeover" -a "$APP-probe" >"$WORK/takeover-write.log" 2>&1; then
        wrote=$(elapsed "$t_kill")
        break
      fi
      sleep 0.2
    done
  fi
  echo "    after the SIGKILL: leading again after ${takeover} s, a config write through it after ${wrote} s ($(tail -n 1 "$WORK/takeover-write.log" 2>/dev/null))"
  if [ "$takeover" != never ] && version2=$(push_version standby-2); then
    pushed=$((pushed + 1))
    echo "    push to the same app through the new leader: serving v$version2"
  else
    echo "    push through the new leader failed: $(tail -n 3 "$WORK/push-standby-2.log" 2>/dev/null | tr '\n' ' ')"
  fi
  sleep "$SETTLE"
  t1=$(now)
  window=$(failed_between "$t0" "$t1")
  echo "    failures (from the standby's start): $(failure_kinds "$t0" "$t1")"
  lost=$(lost_since "$WORK/before-standby" "$pushed")
  [ "$takeover" != never ] && awk -v s="$takeover" 'BEGIN { exit !(s <= 10) }' && [ "$wrote" != never ] && ((pushed == 2)) &&
    [ "$(failures_of "$window")" = 0 ] && [ "$lost" = nothing ] || ok=0
  record "standby controller takeover (leader SIGKILLed; write after ${wrote} s; $pushed of 2 pushes)" "$window" "$takeover" "$lost" "takeover <= 10 s, then a write and a push; 0 failed" "$ok"
}

# --- 13. Redis Sentinel failover ---------------------------------------------------------------------
# With CHAOS_SENTINEL=1 the platform's Redis has a replica and three sentinels, and every component
# connects through the sentinels (PAAS_REDIS names them and the service, as README's Redis section says).
# The primary is SIGKILLed and stays down: the sentinels promote the replica, the components follow it,
# the router keeps serving from its table meanwhile. Whole: the platform is healthy and a push's new
# routes, written to the new primary, reach the router. The old primary then starts again on its files
# and the sentinels make it a replica of the new one.

start_sentinels() {
  local i port
  REPLICA_PORT=$(free_port)
  "$ROOT/deploy/redis/start.sh" "$REPLICA_PORT" "$WORK/redis-replica" --replicaof 127.0.0.1 "$REDIS_PORT" >>"$WORK/redis-replica.log" 2>&1 &
  REPLICA_PID=$!
  for i in 0 1 2; do
    port=$(free_port)
    SENTINEL_PORTS[i]=$port
    mkdir -p "$WORK/sentinel-$i"
    # Sentinel rewrites its file as it learns the topology: one file each.
    cat >"$WORK/sentinel-$i/sentinel.conf" <<CONF
port $port
bind 127.0.0.1
dir $WORK/sentinel-$i
sentinel monitor paas 127.0.0.1 $REDIS_PORT 2
sentinel down-after-milliseconds paas 5000
sentinel failover-timeout paas 10000
sentinel parallel-syncs paas 1
CONF
    redis-server "$WORK/sentinel-$i/sentinel.conf" --sentinel >>"$WORK/sentinel-$i.log" 2>&1 &
    SENTINEL_PIDS[i]=$!
  done
  # A failover needs the sentinels to know each other (the quorum) and the replica (to promote it).
  local ready deadline=$(($(date +%s) + 60))
  while (($(date +%s) < deadline)); do
    ready=1
    for port in "${SENTINEL_PORTS[@]}"; do
      redis-cli -p "$port" sentinel ckquorum paas 2>/dev/null | grep -q '3 usable' || ready=0
      [ "$(redis-cli -p "$port" sentinel replicas paas 2>/dev/null | grep -c '^name$')" = 1 ] || ready=0
    done
    ((ready)) && break
    sleep 0.2
  done
  ((ready)) || { echo "the sentinels did not get ready (see $WORK/sentinel-*.log)" >&2; exit 1; }
  PAAS_REDIS=$(printf '127.0.0.1:%s,' "${SENTINEL_PORTS[@]}")serviceName=paas,connectTimeout=2000
  export PAAS_REDIS
  echo "==> Redis through Sentinel: primary :$REDIS_PORT, replica :$REPLICA_PORT, sentinels :${SENTINEL_PORTS[*]}"
}

fault_sentinel() {
  echo "==> 13. Redis Sentinel failover: SIGKILL the primary under load, kept down"
  if ! ((CHAOS_SENTINEL)); then
    local reason="the platform reaches Redis directly in this run (CHAOS_SENTINEL=0)"
    echo "    skipped: $reason"
    SKIPPED+=("Redis Sentinel failover: $reason")
    return
  fi
  local t0 t1 old new promoted=never seconds window lost pushed=0 version rejoined=no ok=1 deadline
  old=$(redis_primary_port)
  if [ "$old" != "$REDIS_PORT" ]; then
    echo "    the primary is :$old, not this run's first Redis: the sentinel fault runs once, after the redis fault"
  fi
  snapshot "$WORK/before-sentinel"
  sleep 1.5 # what the primary acknowledged a moment ago has reached the replica
  t0=$(now)
  kill_redis
  deadline=$(($(date +%s) + WHOLE_LIMIT))
  while (($(date +%s) < deadline)); do
    new=$(redis_primary_port)
    if [ "$new" != "$old" ] && [ "$(redis-cli -p "$new" role 2>/dev/null | head -n 1)" = master ]; then
      promoted=$(elapsed "$t0")
      break
    fi
    sleep 0.1
  done
  echo "    replica :$new promoted after $promoted s (the sentinels wait 5 s before they act)"
  # shellcheck disable=SC2016 # all_of evaluates these later
  # Whole includes the cell being live in the new primary (its heartbeat key): until then a push is refused
  # with "No cell is live" (a full run pushed at once and was).
  seconds=$(wait_whole "$t0" all_of "[ $promoted != never ]" "http_ok http://127.0.0.1:$ADMIN_PORT/healthz" \
    "http_ok http://127.0.0.1:$CELL_PORT/healthz" "http_ok http://127.0.0.1:$API_PORT/healthz" \
    "[ \"\$(rcli exists ${PREFIX}cells:local:alive)\" = 1 ]")
  # Routes written to the new primary reach the router: a push is served.
  version=$(push_version sentinel) && pushed=1
  echo "    push after the failover: $( ((pushed)) && echo "serving v$version" || echo "failed: $(tail -n 3 "$WORK/push-sentinel.log" | tr '\n' ' ')")"
  # The old primary back on its files, as README says to start a Redis under Sentinel (start.sh
  # --sentinels: it asks them for the primary first and starts as its replica), inside the window.
  # Started plainly, it would be a primary with stale data until the sentinels demote it (~10 s), and a
  # run saw 524 requests answered 502 then: clients that knew it read the routes of stopped instances.
  local t_back
  t_back=$(now)
  start_redis --sentinels "$(printf '127.0.0.1:%s,' "${SENTINEL_PORTS[@]}" | sed 's/,$//')"
  deadline=$(($(date +%s) + 30))
  while (($(date +%s) < deadline)); do
    redis-cli -p "$REDIS_PORT" role 2>/dev/null | head -n 1 | grep -q slave && { rejoined="yes, after $(elapsed "$t_back") s"; break; }
    sleep 0.2
  done
  echo "    the old primary, restarted, is a replica again: $rejoined"
  sleep "$SETTLE"
  t1=$(now)
  window=$(failed_between "$t0" "$t1")
  echo "    failures: $(failure_kinds "$t0" "$t1"); after the old primary's restart: $(failed_between "$t_back" "$t1")"
  lost=$(lost_since "$WORK/before-sentinel" "$pushed")
  [ "$seconds" != never ] && ((pushed)) && [ "$(failures_of "$window")" = 0 ] && [ "$lost" = nothing ] && [ "$rejoined" != no ] || ok=0
  record "Redis Sentinel failover (primary killed, promoted after $promoted s, push afterwards $( ((pushed)) && echo ok || echo failed))" "$window" "$seconds" "$lost" "0 failed, nothing lost" "$ok"
}

# --- the run ----------------------------------------------------------------------------------------

print_table() {
  local row
  printf '\n%s\n' "Chaos run of $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores (load average $(cut -d' ' -f1-3 /proc/loadavg)), $RPS req/s (new connection each) through the router to $APP (static, web=2); slow = 2xx after more than $SLOW s; controller state in $( ((CHAOS_ETCD)) && echo "etcd (3 members)" || echo SQLite); Redis $( ((CHAOS_SENTINEL)) && echo "through Sentinel (primary, replica, 3 sentinels)" || echo direct)"
  {
    echo "fault|failed requests|seconds to whole|nothing lost|goal|result"
    for row in "${ROWS[@]}"; do echo "$row"; done
  } | awk -F'|' '{ printf "| %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6; if (NR == 1) print "|---|---|---|---|---|---|" }'
  if ((${#BAD_ERRORS[@]})); then
    printf '\nThe bad pushes were refused with:\n'
    printf -- '- %s\n' "${BAD_ERRORS[@]}"
  fi
  if ((${#SKIPPED[@]})); then
    printf '\nSkipped:\n'
    printf -- '- %s\n' "${SKIPPED[@]}"
  fi
}

main() {
  echo "==> starting this run's Redis and the platform (deploy/run.sh) in $WORK"
  start_own_redis
  ((CHAOS_SENTINEL)) && start_sentinels
  ((CHAOS_ETCD)) && start_etcd_cluster
  start_platform_supervised
  echo "==> pushing the static fixture as $APP, web=2, with a config var"
  new_app "$APP" static
  paas config:set CHAOS_MARK=kept -a "$APP" >/dev/null
  paas ps:scale web=2 -a "$APP" >/dev/null
  paas apps:create "$APP-probe" >/dev/null # the etcd faults' writes go to this app, which never deploys
  for _ in $(seq 1 300); do [ "$(router_endpoints)" -ge 2 ] && break; sleep 0.1; done
  app_ok || { echo "the app does not answer through the router" >&2; exit 1; }

  # Bounded: at most 2 hours or 500,000 requests, and it stops when this script exits.
  python3 "$HERE/load.py" "$ROUTER_PORT" "$HOST" "$LOAD_FILE" --rps "$RPS" --seconds 7200 --max-requests 500000 &
  LOAD_PID=$!
  echo "==> steady load: $RPS req/s; 10 s to settle"
  sleep 10
  echo "    before any fault: $(failed_between 0 9999999999) failed $(failure_kinds 0 9999999999)"

  local fault
  for fault in $ONLY; do
    "fault_$fault"
    sleep 5 # a quiet gap, so one fault's tail never lands in the next one's window
  done
  kill "$LOAD_PID" 2>/dev/null || true
  LOAD_PID=
  # Steady load with no fault at all (before the first, in the gaps): nothing may fail there either.
  local all between
  all=$(failed_between 0 9999999999)
  between=$(($(failures_of "$all") - IN_WINDOWS))
  all=${all%%,*}
  record "steady load between faults" "$between of ${all#* of }" "-" "-" "0 failed" "$((between == 0))"
  echo "    all failures of the run: $(failure_kinds 0 9999999999)"
  print_table
  return "$MISSED"
}

main
