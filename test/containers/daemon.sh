#!/usr/bin/env bash
# daemon.sh start|stop|status: a Docker daemon of our own (root, vfs storage,
# no iptables, no bridge: containers run with --network host) on
# $DOCKER_HOME/docker.sock. It never touches another daemon's socket or dirs.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

running() { [ -f "$DOCKER_PIDFILE" ] && kill -0 "$(cat "$DOCKER_PIDFILE")" 2>/dev/null; }

case ${1:-status} in
  start)
    [ "$(id -u)" = 0 ] || die "dockerd needs root"
    # Debian's engine and debootstrap (for the base images), installed on first use like Chromium for the browser test
    if ! command -v dockerd >/dev/null || ! command -v debootstrap >/dev/null; then
      command -v apt-get >/dev/null || die "dockerd or debootstrap is missing and there is no apt-get: install docker.io and debootstrap"
      say "installing Debian's docker.io and debootstrap (first run only; usually ~1 min; log: $DOCKER_HOME/apt.log)"
      mkdir -p "$DOCKER_HOME"
      { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends docker.io debootstrap; } \
        >"$DOCKER_HOME/apt.log" 2>&1 || die "installing docker.io failed; see $DOCKER_HOME/apt.log"
    fi
    if running; then exit 0; fi
    mkdir -p "$DOCKER_HOME/data" "$DOCKER_HOME/exec"
    say "starting dockerd on $DOCKER_SOCK (log: $DOCKER_LOG)"
    # setsid: the daemon outlives this script (kept for warm runs, see README)
    setsid dockerd --storage-driver=vfs --iptables=false --ip-masq=false --bridge=none \
      --host="unix://$DOCKER_SOCK" --data-root="$DOCKER_HOME/data" --exec-root="$DOCKER_HOME/exec" \
      --pidfile="$DOCKER_PIDFILE" >"$DOCKER_LOG" 2>&1 < /dev/null &
    for _ in $(seq 1 60); do
      docker info >/dev/null 2>&1 && exit 0
      sleep 1
    done
    die "dockerd did not answer within 60 s; see $DOCKER_LOG"
    ;;
  stop)
    running || exit 0
    pid=$(cat "$DOCKER_PIDFILE")
    say "stopping dockerd (PID $pid)"
    kill "$pid"
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || exit 0; sleep 1; done
    die "dockerd (PID $pid) did not stop within 30 s"
    ;;
  status)
    if running; then echo "dockerd running (PID $(cat "$DOCKER_PIDFILE")) on $DOCKER_SOCK"; else echo "dockerd not running"; exit 1; fi
    ;;
  *) die "usage: daemon.sh start|stop|status" ;;
esac
