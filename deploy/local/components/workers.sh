# The project's own processes as stack components: the training worker, the
# serving worker (model server + both slots as its children), the data
# publisher (purchases topic → segments in MinIO) and the online evaluator
# (recommendations + shadows + purchases → online figures in MinIO), each in a
# session of its own with a PID file, so that `stack.sh stop workers` stops
# them and everything they started. Not part of a plain `stack.sh start`:
# name them (`npm run stack:start -- workers`). Sourced by stack.sh after lib.sh.

WORKERS=(training-worker serving-worker data-publisher online-evaluator)

# worker_entry NAME: the entry point and arguments of a worker.
worker_entry() {
  case $1 in
    training-worker) echo "src/worker.ts" ;;
    serving-worker) echo "src/serving/worker.ts --with-slots --slot-log-dir $STACK_LOGS" ;;
    data-publisher) echo "src/ingest/main.ts" ;;
    online-evaluator) echo "src/evaluation/main.ts" ;;
  esac
}

worker_ready_line() {
  case $1 in
    training-worker) echo "training worker polling" ;;
    serving-worker) echo "serving worker polling" ;;
    data-publisher) echo "data publisher started" ;;
    online-evaluator) echo "online evaluator started" ;;
  esac
}

# The command line must name this repo's entry point: a stale PID file whose
# number was reused by another process must not count (nor ever be killed).
worker_alive() {
  local pidfile=$STACK_RUN/$1.pid entry; entry=$(worker_entry "$1")
  [ -f "$pidfile" ] || return 1
  local pid; pid=$(cat "$pidfile")
  kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$REPO_ROOT/${entry%% *}"
}

workers_install() {
  [ -d "$REPO_ROOT/node_modules" ] || die "node_modules is missing; run 'npm run setup' first"
}

workers_start() {
  local w i
  for w in "${WORKERS[@]}"; do
    if worker_alive "$w"; then say "$w: already running (pid $(cat "$STACK_RUN/$w.pid"))"; continue; fi
    local log=$STACK_LOGS/$w.log entry; entry=$(worker_entry "$w")
    touch "$log"; echo $(( $(stat -c %s "$log") + 1 )) >"$STACK_RUN/$w.logoffset"
    # shellcheck disable=SC2086 # the entry's arguments are meant to split
    (cd "$REPO_ROOT" && TF_CPP_MIN_LOG_LEVEL=${TF_CPP_MIN_LOG_LEVEL:-2} \
      start_daemon "$w" "$STACK_RUN/$w.pid" "$log" node --import tsx "$REPO_ROOT/"$entry)
  done
  for w in "${WORKERS[@]}"; do
    wait_for "$w" "$STACK_LOGS/$w.log" 180 worker_logged_ready "$w"
    say "$w: ready (log: $STACK_LOGS/$w.log)"
  done
}

worker_logged_ready() {
  worker_alive "$1" || return 1
  tail -c +"$(cat "$STACK_RUN/$1.logoffset" 2>/dev/null || echo 1)" "$STACK_LOGS/$1.log" | grep -c "$(worker_ready_line "$1")" >/dev/null
}

workers_stop() {
  local w i
  for ((i=${#WORKERS[@]}-1; i>=0; i--)); do
    w=${WORKERS[$i]}
    if ! worker_alive "$w"; then rm -f "$STACK_RUN/$w.pid"; say "$w: not running"; continue; fi
    # the whole session: the serving worker's slots too
    kill_session "$w" "$STACK_RUN/$w.pid"
  done
}

workers_status() {
  local w rc=0
  for w in "${WORKERS[@]}"; do
    if worker_alive "$w"; then printf '%-16s up    pid %s  log %s\n' "$w" "$(cat "$STACK_RUN/$w.pid")" "$STACK_LOGS/$w.log"
    else printf '%-16s down\n' "$w"; rc=1; fi
  done
  return $rc
}
