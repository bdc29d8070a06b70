#!/usr/bin/env bash
# Installs what the project needs, idempotently (fast when nothing changed):
# the Node packages from the lockfile, the native TensorFlow backend for
# tfjs-node, and the local stack's servers (MinIO, Kafka, Temporal CLI).
#   setup.sh              what the demo needs
#   setup.sh --for-unit   what the offline tier (npm run test:unit) needs: the
#                         Node packages, TensorFlow and Temporal's time-skipping
#                         test server (Java, from Maven Central); no servers
#   setup.sh --for-tests  everything: the demo's, the offline tier's, and what
#                         only the tests use: tctl, the offline validators of
#                         deploy/, Chromium for the web UI check and TF
#                         Serving's Python client for the gRPC check
# The MinIO build, the longest step of a cold start, runs in the background
# while the Node packages and TensorFlow are installed.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
for c in minio kafka temporal; do source "$REPO_ROOT/deploy/local/components/$c.sh"; done

mode=demo
case ${1:-} in
  --for-unit) mode=unit ;;
  --for-tests) mode=tests ;;
  "") ;;
  *) die "usage: setup.sh [--for-unit | --for-tests]" ;;
esac

need_tool node "install Node.js >= 20.3 (e.g. from your distribution or nodejs.org)"
need_tool npm "install npm (it ships with Node.js)"
version_at_least "$(node -p process.versions.node)" 20.3.0 \
  || die "Node.js >= 20.3 is required, found $(node --version); install a newer Node.js (https://nodejs.org)"

cd "$REPO_ROOT"
if [ "$mode" != unit ]; then
  minio_install &
  minio_job=$!
fi

stamp=node_modules/.recommender-setup
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ] || [ ! -f node_modules/@tensorflow/tfjs-node/lib/napi-v8/tfjs_binding.node ]; then
  # --ignore-scripts: tfjs-node's install script would try to download
  # libtensorflow; tfjs-native.sh does its job from PyPI's wheel. (On a
  # machine with internet a plain `npm install` still works as upstream.)
  with_progress "installing Node packages from package-lock.json" "~1 min" "$STACK_LOGS/npm-ci.log" \
    npm ci --ignore-scripts --no-audit --no-fund
  bash deploy/local/tfjs-native.sh
  echo "$want" >"$stamp"
fi

if [ "$mode" != unit ]; then
  kafka_install
  temporal_install
  wait "$minio_job" || die "installing MinIO failed (see the lines above)"
fi

# the in-process workflow tests' server (test/helpers/time-skipping.ts)
if [ "$mode" != demo ]; then bash deploy/local/temporal-test-server.sh; fi

if [ "$mode" = tests ]; then
  tctl_install
  # The offline validators of deploy/ (kustomize, compose-go, BuildKit's
  # Dockerfile checks, kubernetes-validate): built here rather than inside a
  # test, where a cold build could outlast the test's hook timeout.
  bash deploy/validate/install.sh >/dev/null
  bash deploy/local/browser.sh
  bash deploy/local/tfs-client.sh
fi
