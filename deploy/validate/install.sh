#!/usr/bin/env bash
# Installs the offline validators of deploy/ into the stack cache
# (~/.cache/recommender-stack/validate, or $RECO_STACK_HOME/validate),
# idempotently: a second run with nothing changed takes well under a second.
#
#  - kustomize (sigs.k8s.io/kustomize/kustomize/v5), compose-check
#    (compose-go, the Compose Specification's loader) and dockerfile-check
#    (BuildKit's Dockerfile parser and build checks): built with Go from the
#    versions pinned in deploy/validate/go/go.mod + go.sum (Go module proxy);
#  - mc, the MinIO client (for the object store's set-up script), from the
#    Go module proxy at a pinned pseudo-version;
#  - kubernetes-validate with its pinned dependencies (requirements.txt),
#    from PyPI with `pip install --target`; it ships the Kubernetes API JSON
#    schemas inside the package, so validation downloads nothing.
#
# Prints one JSON line on stdout with the paths; progress goes to stderr.
# Needs: Go >= 1.24, Python 3.9+ with pip.
source "$(dirname "${BASH_SOURCE[0]}")/../local/lib.sh"

HERE=$REPO_ROOT/deploy/validate
VALIDATE_HOME=$STACK_HOME/validate
VBIN=$VALIDATE_HOME/bin
mkdir -p "$VBIN"

need_tool go "install Go >= 1.24 (https://go.dev/doc/install or your distribution's golang package)"
need_tool python3 "install Python 3 with pip (e.g. apt-get install python3 python3-pip)"
python3 -m pip --version >/dev/null 2>&1 || die "'python3 -m pip' is not available; install pip (e.g. apt-get install python3-pip)"

# --- Go tools ------------------------------------------------------------------
go_stamp=$( (cd "$HERE/go" && cat go.mod go.sum compose-check/*.go dockerfile-check/*.go; go env GOVERSION) | sha256sum | cut -d' ' -f1)
if [ "$(cat "$VBIN/.go-tools.stamp" 2>/dev/null)" != "$go_stamp" ] \
  || [ ! -x "$VBIN/kustomize" ] || [ ! -x "$VBIN/compose-check" ] || [ ! -x "$VBIN/dockerfile-check" ]; then
  build_go_validators() {
    cd "$HERE/go"
    export GOFLAGS="-buildvcs=false -mod=readonly"
    go build -trimpath -o "$VBIN/" ./compose-check ./dockerfile-check
    go build -trimpath -o "$VBIN/kustomize" sigs.k8s.io/kustomize/kustomize/v5
  }
  with_progress "building kustomize, compose-check and dockerfile-check from deploy/validate/go/go.mod" "1–2 min" \
    "$STACK_LOGS/build-validate-go.log" build_go_validators
  echo "$go_stamp" >"$VBIN/.go-tools.stamp"
fi

# --- mc (MinIO client) --------------------------------------------------------------
# Runs deploy/k8s/infra/minio/setup.sh (users and policies per component)
# against the local MinIO in test/deploy/minio-identities.test.ts. Not in
# Debian (its `mc` is Midnight Commander): built from the Go module proxy.
# The repository has no semver tags; this is its last commit (2025-03-13).
MC_MODULE=github.com/minio/mc@v0.0.0-20250313080218-cf909e1063a9
if [ "$(cat "$VBIN/.mc.stamp" 2>/dev/null)" != "$MC_MODULE" ] || [ ! -x "$VBIN/mc" ]; then
  with_progress "building mc (MinIO client) from $MC_MODULE" "2–6 min" "$STACK_LOGS/build-validate-mc.log" \
    env GOBIN="$VBIN" GOFLAGS=-buildvcs=false go install -trimpath -ldflags='-s -w' "$MC_MODULE"
  echo "$MC_MODULE" >"$VBIN/.mc.stamp"
fi

# --- kubernetes-validate ----------------------------------------------------------
py_version=$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')
PYDIR=$VALIDATE_HOME/python$py_version
py_stamp=$( (cat "$HERE/requirements.txt"; echo "$py_version") | sha256sum | cut -d' ' -f1)
if [ "$(cat "$PYDIR/.stamp" 2>/dev/null)" != "$py_stamp" ]; then
  rm -rf "$PYDIR"
  with_progress "installing kubernetes-validate (with the Kubernetes API schemas) from PyPI into $PYDIR" "~30 s" \
    "$STACK_LOGS/pip-validate.log" python3 -m pip install --disable-pip-version-check --no-input --quiet --no-compile \
    --target "$PYDIR" -r "$HERE/requirements.txt"
  echo "$py_stamp" >"$PYDIR/.stamp"
fi
PYTHONPATH=$PYDIR python3 -c 'import kubernetes_validate, jsonschema, yaml' \
  || die "kubernetes-validate does not import from $PYDIR; remove that directory and run again"

printf '{"kustomize":"%s","composeCheck":"%s","dockerfileCheck":"%s","mc":"%s","pythonPath":"%s","k8sValidate":"%s"}\n' \
  "$VBIN/kustomize" "$VBIN/compose-check" "$VBIN/dockerfile-check" "$VBIN/mc" "$PYDIR" "$HERE/k8s-validate.py"
