#!/usr/bin/env bash
# Creates (idempotently) the venv with TF Serving's official Python client:
# tensorflow-serving-api 2.21.0 (the release matching TensorFlow 2.21) and
# TensorFlow itself for its protos. tensorflow-serving-api asks for the
# "tensorflow" distribution; tensorflow-cpu provides the same package and is
# the wheel this project already caches, so the API is installed --no-deps.
set -euo pipefail
cache="${RECOMMENDER_STACK_CACHE:-$HOME/.cache/recommender-stack}"
venv="$cache/venv-tfs"
stamp="$venv/.tfs-client-2.21.0"
[ -f "$stamp" ] && exit 0
python3 -m venv "$venv"
wheel=$(ls "$cache"/wheels/tensorflow_cpu-2.21.0-*.whl 2>/dev/null | head -n 1 || true)
"$venv/bin/pip" install --quiet --no-input "${wheel:-tensorflow-cpu==2.21.0}" grpcio==1.85.1
"$venv/bin/pip" install --quiet --no-input --no-deps tensorflow-serving-api==2.21.0
touch "$stamp"
