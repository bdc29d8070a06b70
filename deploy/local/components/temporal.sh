# Temporal dev server (with its embedded web UI) and tctl, built from Go modules.
# Sourced by stack.sh after lib.sh.

TEMPORAL_PORT=${RECO_TEMPORAL_PORT:-7233}
TEMPORAL_UI_PORT=${RECO_TEMPORAL_UI_PORT:-8233}
TEMPORAL_NAMESPACE=${TEMPORAL_NAMESPACE:-default}
TEMPORAL_PID=$STACK_RUN/temporal.pid
TEMPORAL_LOG=$STACK_LOGS/temporal.log

# The custom search attributes the retrain-and-deploy workflow sets, so that
# runs can be found and compared in the web UI's list.
TEMPORAL_SEARCH_ATTRIBUTES=(
  RecommenderModelVersion=Int
  RecommenderSlot=Keyword
  RecommenderHitRate10=Double
  RecommenderOutcome=Keyword
)

temporal_install() {
  # v1.5.1 is the last CLI tag without a `replace` directive in go.mod, which
  # `go install pkg@version` refuses (checked: v1.6.0 has one).
  go_install "github.com/temporalio/cli/cmd/temporal@$TEMPORAL_CLI_VERSION" temporal
  go_build_module "$REPO_ROOT/deploy/local/tctl" github.com/temporalio/tctl/cmd/tctl tctl
}

temporal_ready() {
  "$STACK_BIN/temporal" operator namespace describe --address "127.0.0.1:$TEMPORAL_PORT" \
    --namespace "$TEMPORAL_NAMESPACE" >/dev/null 2>&1 && http_ok "http://127.0.0.1:$TEMPORAL_UI_PORT/"
}

temporal_start() {
  if pid_alive "$TEMPORAL_PID"; then say "temporal: already running (pid $(cat "$TEMPORAL_PID"))"; return 0; fi
  port_check "$TEMPORAL_PORT" "Temporal frontend"
  port_check "$TEMPORAL_UI_PORT" "Temporal web UI"
  mkdir -p "$STACK_DATA/temporal"
  local args=(server start-dev --ip 127.0.0.1 --port "$TEMPORAL_PORT" --ui-port "$TEMPORAL_UI_PORT"
    --db-filename "$STACK_DATA/temporal/temporal.db" --namespace "$TEMPORAL_NAMESPACE"
    --log-level warn)
  local sa
  for sa in "${TEMPORAL_SEARCH_ATTRIBUTES[@]}"; do args+=(--search-attribute "$sa"); done
  start_daemon temporal "$TEMPORAL_PID" "$TEMPORAL_LOG" "$STACK_BIN/temporal" "${args[@]}"
  wait_for temporal "$TEMPORAL_LOG" 120 temporal_ready
  say "temporal: ready on 127.0.0.1:$TEMPORAL_PORT, web UI http://127.0.0.1:$TEMPORAL_UI_PORT"
}

temporal_stop() { stop_daemon temporal "$TEMPORAL_PID"; }

temporal_status() { component_status temporal "$TEMPORAL_PID" "$TEMPORAL_LOG" "grpc 127.0.0.1:$TEMPORAL_PORT  ui http://127.0.0.1:$TEMPORAL_UI_PORT  data $STACK_DATA/temporal" temporal_ready; }
