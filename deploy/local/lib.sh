# Shared helpers for the local stack scripts. Sourced, never run.
# Everything the stack installs or writes lives under STACK_HOME (outside the
# repo) so that a fresh clone reuses what an earlier one built.
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
STACK_HOME=${RECO_STACK_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/recommender-stack}
STACK_BIN=$STACK_HOME/bin
STACK_DATA=${RECO_STACK_DATA:-$STACK_HOME/data}
STACK_RUN=$STACK_HOME/run
STACK_LOGS=$STACK_HOME/logs
mkdir -p "$STACK_BIN" "$STACK_DATA" "$STACK_RUN" "$STACK_LOGS"

# Pinned versions (see README "Local stack" for why these).
TEMPORAL_CLI_VERSION=v1.5.1
MINIO_VERSION=${RECO_MINIO_VERSION:-v0.0.0-20260212201848-7aac2a2c5b7c}
KAFKA_VERSION=3.9.2
# Temporal's time-skipping test server (Java SDK release) for the workflow tests
TEMPORAL_TEST_SERVER_VERSION=1.38.0
TENSORFLOW_WHEEL_VERSION=2.21.0

# Colour only on a terminal (and not with NO_COLOR): log files stay plain text.
if [ -t 2 ] && [ -z "${NO_COLOR:-}" ]; then
  STACK_TAG=$'\033[1m[stack]\033[0m' STACK_ERR=$'\033[31m[stack] error:\033[0m'
else
  STACK_TAG='[stack]' STACK_ERR='[stack] error:'
fi
say() { printf '%s %s\n' "$STACK_TAG" "$*" >&2; }
die() { printf '%s %s\n' "$STACK_ERR" "$*" >&2; exit 1; }

need_tool() { # need_tool NAME HOW-TO-GET-IT
  command -v "$1" >/dev/null 2>&1 || die "'$1' is not installed; $2"
}

# need_go MIN WHY: Go is installed and at least MIN (e.g. 1.24.8); fails with the fix.
need_go() {
  local min=$1 why=$2 have
  need_tool go "install Go >= $min ($why): https://go.dev/doc/install or your distribution's golang package"
  have=$(go env GOVERSION | sed 's/^go//')
  version_at_least "$have" "$min" || die "Go >= $min is needed ($why), found $have; install a newer Go (https://go.dev/doc/install)"
}

# version_at_least HAVE MIN: dotted numeric versions, HAVE >= MIN.
version_at_least() {
  [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]
}

# with_progress LABEL USUAL LOG COMMAND...: runs COMMAND with its output in LOG
# and shows that it is working: a ticking line on a terminal, a line every
# 30 s otherwise. USUAL says how long it usually takes (e.g. "~3 min").
with_progress() {
  local label=$1 usual=$2 log=$3; shift 3
  local start=$SECONDS pid rc
  say "$label (first run only; usually $usual; log: $log)"
  "$@" >"$log" 2>&1 &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    sleep 1
    local t=$((SECONDS - start))
    if [ -t 2 ]; then
      printf '\r%s   … %s: %dm%02ds ' "$STACK_TAG" "$label" $((t / 60)) $((t % 60)) >&2
    elif [ $((t % 30)) -eq 0 ]; then
      say "  … $label: still working, $((t / 60))m$((t % 60))s"
    fi
  done
  wait "$pid" && rc=0 || rc=$?
  [ -t 2 ] && printf '\r\033[K' >&2
  if [ "$rc" -ne 0 ]; then
    tail -n 20 "$log" >&2
    die "$label failed; see $log"
  fi
  say "$label: done in $(( (SECONDS - start) / 60 ))m$(( (SECONDS - start) % 60 ))s"
}

# pid_alive FILE: the process recorded in FILE is running.
# The command line must mention STACK_HOME: a stale PID file whose number was
# reused by an unrelated process must not count (nor ever be killed).
pid_alive() {
  [ -f "$1" ] || return 1
  local pid; pid=$(cat "$1")
  kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$STACK_HOME"
}

# port_check PORT NAME: fail clearly when somebody else holds the port.
port_check() {
  local port=$1 name=$2 holder=""
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    if command -v ss >/dev/null 2>&1; then
      holder=$(ss -ltnpH "sport = :$port" 2>/dev/null | grep -o 'users:(([^)]*' | head -1 | sed 's/users:((//')
    fi
    die "port 127.0.0.1:$port, needed by $name, is already in use${holder:+ by $holder}; stop that process or configure another port"
  fi
}

# wait_for NAME LOGFILE SECONDS COMMAND...: poll COMMAND until it succeeds.
wait_for() {
  local name=$1 log=$2 secs=$3; shift 3
  local deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    if [ $SECONDS -ge $deadline ]; then
      tail -n 20 "$log" >&2 || true
      die "$name did not become ready within ${secs}s; see its log: $log"
    fi
    sleep 0.5
  done
}

http_ok() { curl -fsS -o /dev/null --max-time 2 "$1"; }
tcp_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# start_daemon NAME PIDFILE LOGFILE COMMAND...: run in the background, own
# session so that stopping by PID takes its children too.
start_daemon() {
  local name=$1 pidfile=$2 log=$3; shift 3
  say "starting $name (log: $log)"
  setsid "$@" >>"$log" 2>&1 < /dev/null &
  echo $! > "$pidfile"
}

# stop_daemon NAME PIDFILE: stop only the process we started, by PID.
stop_daemon() {
  local name=$1 pidfile=$2
  if ! pid_alive "$pidfile"; then
    rm -f "$pidfile"; say "$name: not running"; return 0
  fi
  kill_session "$name" "$pidfile"
}

# kill_session NAME PIDFILE: SIGTERM to the session started by start_daemon
# (the process and its children), SIGKILL after 30 s. The caller has checked
# that PIDFILE names our process.
kill_session() {
  local name=$1 pidfile=$2
  local pid; pid=$(cat "$pidfile")
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 60); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  if kill -0 "$pid" 2>/dev/null; then
    say "$name did not stop in 30s; killing it"
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
  say "$name stopped"
}

# go_install MODULE@VERSION BINARY USUAL MIN-GO: build a Go command into STACK_BIN once.
go_install() {
  local target=$1 bin=$2 usual=$3 min_go=$4
  if [ -x "$STACK_BIN/$bin" ] && [ -f "$STACK_BIN/.$bin.version" ] && [ "$(cat "$STACK_BIN/.$bin.version")" = "$target" ]; then
    return 0
  fi
  need_go "$min_go" "to build $bin"
  # -s -w: no symbol table or DWARF, which makes linking these large binaries faster
  with_progress "building $bin from $target" "$usual" "$STACK_LOGS/build-$bin.log" \
    env GOBIN="$STACK_BIN" GOFLAGS=-buildvcs=false go install -trimpath -ldflags='-s -w' "$target"
  echo "$target" > "$STACK_BIN/.$bin.version"
}

# go_build_module DIR PACKAGE BINARY USUAL MIN-GO: build PACKAGE with the versions
# pinned in DIR/go.mod + go.sum (rebuilt when those change).
go_build_module() {
  local dir=$1 pkg=$2 bin=$3 usual=$4 min_go=$5 want
  want="$pkg $(cat "$dir/go.mod" "$dir/go.sum" | sha256sum | cut -d' ' -f1)"
  if [ -x "$STACK_BIN/$bin" ] && [ "$(cat "$STACK_BIN/.$bin.version" 2>/dev/null)" = "$want" ]; then
    return 0
  fi
  need_go "$min_go" "to build $bin"
  with_progress "building $bin from ${dir#"$REPO_ROOT"/}/go.mod" "$usual" "$STACK_LOGS/build-$bin.log" \
    bash -c 'cd "$1" && GOFLAGS="-buildvcs=false -mod=readonly" go build -trimpath -ldflags="-s -w" -o "$2" "$3"' _ "$dir" "$STACK_BIN/$bin" "$pkg"
  echo "$want" > "$STACK_BIN/.$bin.version"
}

# component_status NAME PIDFILE LOGFILE DETAIL READY-COMMAND...: one status line;
# non-zero unless the process runs and READY-COMMAND succeeds.
component_status() {
  local name=$1 pidfile=$2 log=$3 detail=$4; shift 4
  if pid_alive "$pidfile" && "$@"; then
    printf '%-9s up    pid %s  %s\n' "$name" "$(cat "$pidfile")" "$detail"
  elif pid_alive "$pidfile"; then
    printf '%-9s starting/unhealthy  pid %s  log %s\n' "$name" "$(cat "$pidfile")" "$log"; return 1
  else
    printf '%-9s down\n' "$name"; return 1
  fi
}
