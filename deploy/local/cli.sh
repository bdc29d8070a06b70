#!/usr/bin/env bash
# Runs the local stack's command-line tools, installing them on first use:
#   npm run temporal -- ARGS...   the Temporal CLI (v1.5.1)
#   npm run tctl -- ARGS...       tctl (v1, end of support; tests and old scripts)
# Or put them on PATH: export PATH="$(bash deploy/local/cli.sh --bin-dir):$PATH"
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$REPO_ROOT/deploy/local/components/temporal.sh"
tool=${1:-}; shift || true
case $tool in
  temporal) temporal_install ;;
  tctl) tctl_install ;;
  --bin-dir) echo "$STACK_BIN"; exit 0 ;;
  *) die "usage: cli.sh temporal|tctl ARGS... | --bin-dir" ;;
esac
exec "$STACK_BIN/$tool" "$@"
