# Supervision for `make run`, sourced by deploy/run.sh (bash 5.1 or later).
#
# Each child (registry, router, cell agent, controller) runs under its own watcher: a background subshell that
# starts it, waits for it, and starts it again whenever it exits, for any reason, SIGKILL included.
# The watchers are independent, so a crashing controller never touches the router or the cell agent:
# the data plane keeps serving while the control plane comes back.
#
# Restarts back off while a child crash-loops: 0.2 s, doubling to 10 s, back to 0.2 s once it has stayed
# up 30 s. Each restart is logged, with the exit status, to the child's log ($PAAS_DATA_DIR/logs/NAME.log)
# and as one line on the terminal. The child's pid is in $PAAS_DATA_DIR/run/NAME.pid.
#
# SIGINT (Ctrl-C) or SIGTERM to the supervisor stops every child: SIGTERM, up to 10 s to finish, then
# SIGKILL. App containers are not children; they keep running. A supervisor that is itself SIGKILLed
# leaves its children serving; its watchers restart nothing more, and the next start stops those
# children (found through their pid files) before starting new ones.

readonly SUPERVISE_FIRST_DELAY_MS=200
readonly SUPERVISE_MAX_DELAY_MS=10000
readonly SUPERVISE_STABLE_MS=30000
readonly SUPERVISE_STOP_GRACE_MS=10000
SUPERVISE_LOG_DIR=$PAAS_DATA_DIR/logs
SUPERVISE_RUN_DIR=$PAAS_DATA_DIR/run
SUPERVISE_PID=$$
declare -A supervise_watchers=() # child name -> watcher pid
supervise_stopped=0

supervise_now_ms() {
  local us=${EPOCHREALTIME/./}
  echo $((10#$us / 1000))
}

supervise_seconds() { printf '%d.%d' $(($1 / 1000)) $(($1 / 100 % 10)); }

# How a child ended, from the status `wait` gave: a signal above 128, an exit code otherwise.
supervise_describe() {
  if (($1 > 128)); then
    echo "killed by SIG$(kill -l $(($1 - 128)) 2>/dev/null || echo $(($1 - 128)))"
  else
    echo "exit status $1"
  fi
}

# supervise_note NAME MESSAGE: one line in the child's log and one on the terminal.
supervise_note() {
  printf '%s paas supervisor: %s %s\n' "$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)" "$1" "$2" >>"$SUPERVISE_LOG_DIR/$1.log"
  printf '==> %s %s\n' "$1" "$2" >&2
}

# A process that has not finished. A finished child of a watcher lingers as a zombie until reaped.
supervise_running() {
  kill -0 "$1" 2>/dev/null && [[ $(ps -o stat= -p "$1" 2>/dev/null) != Z* ]]
}

# Stops one process: SIGTERM, up to the grace period, then SIGKILL. Returns once it has finished,
# saying so when it had to be killed.
supervise_terminate() {
  local pid=$1 since
  since=$(supervise_now_ms)
  kill -TERM "$pid" 2>/dev/null || return 0
  while supervise_running "$pid"; do
    if (($(supervise_now_ms) - since >= SUPERVISE_STOP_GRACE_MS)); then
      kill -KILL "$pid" 2>/dev/null || true
      echo "SIGKILL after $(supervise_seconds $((SUPERVISE_STOP_GRACE_MS))) s"
      return 0
    fi
    sleep 0.1
  done
}

# Before starting: refuse a second live supervisor for this data directory, and stop children a
# SIGKILLed supervisor left behind (a pid file whose process still runs that child's command).
supervise_begin() {
  mkdir -p "$SUPERVISE_LOG_DIR" "$SUPERVISE_RUN_DIR"
  local file pid name
  if [[ -s $SUPERVISE_RUN_DIR/supervisor.pid ]]; then
    pid=$(<"$SUPERVISE_RUN_DIR/supervisor.pid")
    if [[ $pid != "$$" ]] && kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'run\.sh'; then
      echo "another supervisor (pid $pid) runs the platform from $PAAS_DATA_DIR; stop it first" >&2
      exit 1
    fi
  fi
  echo $$ >"$SUPERVISE_RUN_DIR/supervisor.pid"
  trap 'supervise_stop; exit 0' INT TERM
  trap 'supervise_stop' EXIT
  for file in "$SUPERVISE_RUN_DIR"/*.pid; do
    [[ -e $file ]] || continue
    name=$(basename "$file" .pid)
    [[ $name == supervisor ]] && continue
    pid=$(<"$file")
    [[ $pid =~ ^[0-9]+$ ]] && supervise_running "$pid" &&
      tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -Eq 'Paas\.|docker-registry serve|registry/start\.sh' || { rm -f "$file"; continue; }
    echo "==> stopping the $name left running by an earlier supervisor (pid $pid)"
    supervise_terminate "$pid" >/dev/null
    rm -f "$file"
  done
}

# The watcher of one child; runs in its own background subshell until told to stop (SIGTERM).
# With terminal=1 the child's output goes to the terminal as well as to its log.
supervise_watch() {
  local name=$1 terminal=$2
  shift 2
  local log=$SUPERVISE_LOG_DIR/$name.log pidfile=$SUPERVISE_RUN_DIR/$name.pid
  local child=0 pause=0 delay_ms=$SUPERVISE_FIRST_DELAY_MS started_ms up_ms status outcome=
  trap - EXIT
  trap '' INT # Ctrl-C reaches the whole process group; the supervisor turns it into SIGTERM here.
  # The trap sees this function's locals (child, pause, outcome).
  trap 'if ((pause)); then kill "$pause" 2>/dev/null; fi
        if ((child)); then outcome=$(supervise_terminate "$child"); wait "$child" 2>/dev/null || true; fi
        rm -f "$pidfile"; supervise_note "$name" "stopped${outcome:+ ($outcome)}"; exit 0' TERM
  while :; do
    started_ms=$(supervise_now_ms)
    if ((terminal)); then
      # exec keeps the pid; tee ignores Ctrl-C so the child's last words still reach the log.
      (exec "$@" > >(trap '' INT; exec tee -a "$log") 2>&1) &
    else
      (exec "$@" >>"$log" 2>&1) &
    fi
    child=$!
    echo "$child" >"$pidfile.tmp" && mv "$pidfile.tmp" "$pidfile"
    status=0
    wait "$child" 2>/dev/null || status=$? # its status is reported below, not as bash's "Killed"
    child=0
    # The supervisor is gone (SIGKILLed; perhaps a zombie nobody has reaped yet): nobody would stop a
    # new child, so start none.
    supervise_running "$SUPERVISE_PID" || exit 0
    up_ms=$(($(supervise_now_ms) - started_ms))
    if ((up_ms >= SUPERVISE_STABLE_MS)); then
      delay_ms=$SUPERVISE_FIRST_DELAY_MS
    fi
    supervise_note "$name" "exited ($(supervise_describe "$status")) after $(supervise_seconds "$up_ms") s; restarting in $(supervise_seconds "$delay_ms") s"
    sleep "$(supervise_seconds "$delay_ms")" &
    pause=$!
    wait "$pause" || true
    pause=0
    delay_ms=$((delay_ms * 2 > SUPERVISE_MAX_DELAY_MS ? SUPERVISE_MAX_DELAY_MS : delay_ms * 2))
  done
}

# supervise [--terminal] NAME COMMAND...: starts COMMAND under a watcher; its output goes to logs/NAME.log.
supervise() {
  local terminal=0
  if [[ $1 == --terminal ]]; then
    terminal=1
    shift
  fi
  local name=$1
  shift
  supervise_watch "$name" "$terminal" "$@" &
  supervise_watchers[$name]=$!
}

# supervise_ready NAME URL SECONDS: waits for URL to answer 200; fails, pointing at the log, if it does not.
supervise_ready() {
  local name=$1 url=$2 tries=$(($3 * 10))
  for ((i = 0; i < tries; i++)); do
    curl -fsS --max-time 1 "$url" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "$name was not ready within $3 s; see $SUPERVISE_LOG_DIR/$name.log" >&2
  exit 1
}

# Waits until told to stop. A watcher that ends on its own (it should not) is reported, not replaced.
supervise_wait() {
  local gone name
  while ((${#supervise_watchers[@]})); do
    gone=
    wait -n -p gone "${supervise_watchers[@]}" || true
    for name in "${!supervise_watchers[@]}"; do
      if [[ ${supervise_watchers[$name]} == "$gone" ]]; then
        echo "==> the watcher of $name ended; $name is no longer supervised" >&2
        unset "supervise_watchers[$name]"
      fi
    done
  done
  exit 1
}

# Stops every child at once (each watcher: SIGTERM, grace, SIGKILL) and waits for them all.
supervise_stop() {
  ((supervise_stopped)) && return 0
  supervise_stopped=1
  trap '' INT TERM
  if ((${#supervise_watchers[@]})); then
    echo "==> stopping ${!supervise_watchers[*]} (app containers keep running)" >&2
    kill -TERM "${supervise_watchers[@]}" 2>/dev/null || true
    wait "${supervise_watchers[@]}" 2>/dev/null || true
  fi
  rm -f "$SUPERVISE_RUN_DIR/supervisor.pid"
}
