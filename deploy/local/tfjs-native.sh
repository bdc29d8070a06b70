#!/usr/bin/env bash
# Makes @tensorflow/tfjs-node's native backend work from registry packages.
#
# tfjs-node's install script downloads libtensorflow 2.9.1 from a host that a
# registry-only machine cannot reach. The TensorFlow wheel on PyPI (2.12+)
# ships libtensorflow_cc.so.2, which exports the same C and eager C APIs; its
# headers are inside the wheel too. We unpack those once into the stack cache,
# link them where the addon's build expects them (deps/lib, deps/include) and
# build the addon from source. `npm ci` wipes node_modules, so setup.sh runs
# this after every install; the unpacked libraries (~850 MB) and the compiled
# addon stay in the cache.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

TFJS_DIR=$REPO_ROOT/node_modules/@tensorflow/tfjs-node
[ -d "$TFJS_DIR" ] || die "node_modules/@tensorflow/tfjs-node is missing; run 'npm run setup'"
TFJS_VERSION=$(node -p "require('$TFJS_DIR/package.json').version")
TF_HOME=$STACK_HOME/tensorflow-$TENSORFLOW_WHEEL_VERSION
ADDON_CACHE=$STACK_HOME/tfjs-node-addon/$TFJS_VERSION-tf$TENSORFLOW_WHEEL_VERSION-node$(node -p process.versions.modules)
ADDON_REL=lib/napi-v8/tfjs_binding.node

native_ok() {
  (cd "$REPO_ROOT" && TF_CPP_MIN_LOG_LEVEL=3 node -e "
    const tf = require('@tensorflow/tfjs-node');
    if (tf.getBackend() !== 'tensorflow') process.exit(1);
    console.log('tfjs-node backend', tf.getBackend(), 'TensorFlow', tf.backend().binding.TF_Version);
  ")
}

unpack_wheel() {
  [ -f "$TF_HOME/.complete" ] && return 0
  need_tool python3 "install Python 3 with pip (used only to download the TensorFlow wheel)"
  local wheels=$STACK_HOME/wheels
  mkdir -p "$wheels"
  local whl; whl=$(ls "$wheels"/tensorflow_cpu-"$TENSORFLOW_WHEEL_VERSION"-*.whl 2>/dev/null | head -1 || true)
  if [ -z "$whl" ]; then
    with_progress "downloading the tensorflow-cpu $TENSORFLOW_WHEEL_VERSION wheel from PyPI (~270 MB)" "~30 s" "$STACK_LOGS/pip-tensorflow.log" \
      python3 -m pip download --no-deps --only-binary=:all: --python-version 3.11 \
      -d "$wheels" "tensorflow-cpu==$TENSORFLOW_WHEEL_VERSION"
    whl=$(ls "$wheels"/tensorflow_cpu-"$TENSORFLOW_WHEEL_VERSION"-*.whl | head -1)
  fi
  say "unpacking the TensorFlow C API libraries and headers from $(basename "$whl")"
  rm -rf "$TF_HOME"; mkdir -p "$TF_HOME/lib" "$TF_HOME/include"
  python3 - "$whl" "$TF_HOME" <<'PY'
import sys, zipfile, os, shutil
whl, home = sys.argv[1], sys.argv[2]
keep_headers = ('tensorflow/include/tensorflow/c/', 'tensorflow/include/tensorflow/core/platform/',
                'tensorflow/include/tsl/', 'tensorflow/include/xla/tsl/c/')
with zipfile.ZipFile(whl) as z:
    for info in z.infolist():
        name = info.filename
        if name in ('tensorflow/libtensorflow_cc.so.2', 'tensorflow/libtensorflow_framework.so.2'):
            dest = os.path.join(home, 'lib', os.path.basename(name))
        elif name.startswith(keep_headers) and not name.endswith('/'):
            dest = os.path.join(home, 'include', name[len('tensorflow/include/'):])
        else:
            continue
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        with z.open(info) as src, open(dest, 'wb') as out:
            shutil.copyfileobj(src, out, 1 << 20)
PY
  touch "$TF_HOME/.complete"
}

link_deps() {
  local deps=$TFJS_DIR/deps
  rm -rf "$deps"; mkdir -p "$deps/lib"
  ln -s "$TF_HOME/include" "$deps/include"
  local cc=$TF_HOME/lib/libtensorflow_cc.so.2 fw=$TF_HOME/lib/libtensorflow_framework.so.2
  # -ltensorflow at link time; the SONAMEs (libtensorflow_cc.so.2,
  # libtensorflow_framework.so.2) at run time through the addon's rpath
  # $ORIGIN/../../deps/lib; libtensorflow.so.2.9.1 is the file whose presence
  # tells tfjs-node's install script not to download.
  ln -s "$cc" "$deps/lib/libtensorflow.so"
  ln -s "$cc" "$deps/lib/libtensorflow.so.2.9.1"
  ln -s "$cc" "$deps/lib/libtensorflow_cc.so.2"
  ln -s "$fw" "$deps/lib/libtensorflow_framework.so"
  ln -s "$fw" "$deps/lib/libtensorflow_framework.so.2"
}

build_addon() {
  if [ -f "$ADDON_CACHE/tfjs_binding.node" ]; then
    mkdir -p "$TFJS_DIR/$(dirname "$ADDON_REL")"
    cp "$ADDON_CACHE/tfjs_binding.node" "$TFJS_DIR/$ADDON_REL"
    return 0
  fi
  need_tool g++ "install a C++ compiler and make (e.g. apt-get install build-essential)"
  need_tool make "install make (e.g. apt-get install build-essential)"
  # node-gyp would download Node's headers; use the installed ones when the
  # npm configuration does not already name them
  local nodedir; nodedir=$(npm config get nodedir 2>/dev/null || true)
  if [ -z "$nodedir" ] || [ "$nodedir" = "undefined" ] || [ "$nodedir" = "null" ]; then
    for d in /usr /usr/local "$(dirname "$(dirname "$(command -v node)")")"; do
      if [ -f "$d/include/node/node_api.h" ]; then export npm_config_nodedir=$d; break; fi
    done
  fi
  rm -rf "$TFJS_DIR/lib" "$TFJS_DIR/build"
  with_progress "compiling the tfjs-node addon against TensorFlow $TENSORFLOW_WHEEL_VERSION" "~1-2 min" "$STACK_LOGS/build-tfjs-node.log" \
    bash -c 'cd "$1" && npm_config_build_from_source=true npm rebuild --ignore-scripts=false @tensorflow/tfjs-node' _ "$REPO_ROOT"
  mkdir -p "$ADDON_CACHE"
  cp "$TFJS_DIR/$ADDON_REL" "$ADDON_CACHE/tfjs_binding.node"
}

if native_ok >/dev/null 2>&1; then exit 0; fi
unpack_wheel
link_deps
build_addon
# (stderr: TensorFlow's start-up notices, which TF_CPP_MIN_LOG_LEVEL does not silence)
native_ok 2>/dev/null || die "tfjs-node still does not load its native backend; see $STACK_LOGS/build-tfjs-node.log"
