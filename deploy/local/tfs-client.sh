#!/usr/bin/env bash
# TF Serving's official Python client for the slots' gRPC conformance test
# (test/serving/slot-grpc.test.ts), in a venv of the stack cache, idempotently:
# tensorflow-serving-api 2.21.0 (the release matching TensorFlow 2.21) and
# TensorFlow itself for its protos. tensorflow-serving-api asks for the
# "tensorflow" distribution; tensorflow-cpu provides the same package and is
# the wheel the native setup already caches, so the API is installed --no-deps.
#   tfs-client.sh            install
#   tfs-client.sh --python   install, then print the venv's python
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
venv=$STACK_HOME/venv-tfs
stamp=$venv/.tfs-client-2.21.0
if [ ! -f "$stamp" ]; then
  need_tool python3 "install Python 3 with venv and pip (e.g. apt-get install python3-venv)"
  rm -rf "$venv"
  wheel=$(ls "$STACK_HOME"/wheels/tensorflow_cpu-2.21.0-*.whl 2>/dev/null | head -n 1 || true)
  with_progress "installing TF Serving's Python client (tensorflow-serving-api 2.21.0) for the gRPC test" "~3 min" "$STACK_LOGS/pip-tfs-client.log" \
    bash -c 'python3 -m venv "$1" && "$1/bin/pip" install --no-input "${2:-tensorflow-cpu==2.21.0}" grpcio==1.85.1 && "$1/bin/pip" install --no-input --no-deps tensorflow-serving-api==2.21.0' \
    _ "$venv" "$wheel"
  touch "$stamp"
fi
[ "${1:-}" = --python ] && echo "$venv/bin/python"
exit 0
