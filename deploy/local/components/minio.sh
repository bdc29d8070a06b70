# MinIO server built from its Go module, with the local credentials of docs/design.md.
# Sourced by stack.sh after lib.sh.

MINIO_PORT=${RECO_MINIO_PORT:-9000}
MINIO_CONSOLE_PORT=${RECO_MINIO_CONSOLE_PORT:-9001}
MINIO_PID=$STACK_RUN/minio.pid
MINIO_LOG=$STACK_LOGS/minio.log
# Local-stack defaults only; real deployments pass their own through the environment.
MINIO_USER=${MINIO_ACCESS_KEY:-minio}
MINIO_PASSWORD=${MINIO_SECRET_KEY:-minio123}

minio_install() {
  # MinIO tags are not semantic versions: pin the pseudo-version that built.
  go_install "github.com/minio/minio@$MINIO_VERSION" minio "~3 min warm, ~9 min with an empty Go cache" 1.24.0
}

minio_ready() { http_ok "http://127.0.0.1:$MINIO_PORT/minio/health/ready"; }

minio_start() {
  if pid_alive "$MINIO_PID"; then say "minio: already running (pid $(cat "$MINIO_PID"))"; return 0; fi
  port_check "$MINIO_PORT" "MinIO API"
  port_check "$MINIO_CONSOLE_PORT" "MinIO console"
  mkdir -p "$STACK_DATA/minio"
  MINIO_ROOT_USER=$MINIO_USER MINIO_ROOT_PASSWORD=$MINIO_PASSWORD MINIO_BROWSER=off \
  MINIO_UPDATE=off MINIO_CALLHOME_ENABLE=off \
    start_daemon minio "$MINIO_PID" "$MINIO_LOG" "$STACK_BIN/minio" server "$STACK_DATA/minio" \
      --address "127.0.0.1:$MINIO_PORT" --console-address "127.0.0.1:$MINIO_CONSOLE_PORT" --quiet
  wait_for minio "$MINIO_LOG" 60 minio_ready
  minio_buckets
  say "minio: ready on http://127.0.0.1:$MINIO_PORT (buckets data, models)"
}

# Buckets are created by the project's own TypeScript storage module, so that
# the same code path runs here, in tests and against a real S3.
minio_buckets() {
  (cd "$REPO_ROOT" && node_modules/.bin/tsx src/cli/ensure-buckets.ts) >>"$MINIO_LOG" 2>&1 \
    || die "creating the MinIO buckets failed; see $MINIO_LOG"
}

minio_stop() { stop_daemon minio "$MINIO_PID"; }

minio_status() { component_status minio "$MINIO_PID" "$MINIO_LOG" "http://127.0.0.1:$MINIO_PORT  data $STACK_DATA/minio" minio_ready; }
