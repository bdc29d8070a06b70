#!/usr/bin/env bash
# Installs everything the project needs, idempotently: the Node packages from
# the lockfile, the native TensorFlow backend for tfjs-node, and the local
# stack's servers (Temporal CLI + tctl, MinIO, Kafka). Fast when nothing changed.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

need_tool node "install Node.js >= 20.3 (e.g. from your distribution or nodejs.org)"
need_tool npm "install npm (it ships with Node.js)"
node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=3)?0:1)' \
  || die "Node.js >= 20.3 is required, found $(node --version)"

cd "$REPO_ROOT"
stamp=node_modules/.recommender-setup
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ] || [ ! -f node_modules/@tensorflow/tfjs-node/lib/napi-v8/tfjs_binding.node ]; then
  say "installing Node packages from package-lock.json"
  # --ignore-scripts: tfjs-node's install script would try to download
  # libtensorflow; tfjs-native.sh does its job from PyPI's wheel. (On a
  # machine with internet a plain `npm install` still works as upstream.)
  npm ci --ignore-scripts --no-audit --no-fund >"$STACK_LOGS/npm-ci.log" 2>&1 \
    || { tail -n 20 "$STACK_LOGS/npm-ci.log" >&2; die "npm ci failed; see $STACK_LOGS/npm-ci.log"; }
  bash deploy/local/tfjs-native.sh
  echo "$want" >"$stamp"
fi

bash deploy/local/stack.sh install

# The offline validators of deploy/ (kustomize, compose-go, BuildKit's
# Dockerfile checks, kubernetes-validate): built here rather than inside a
# test, where a cold build could outlast the test's hook timeout.
bash deploy/validate/install.sh >/dev/null
