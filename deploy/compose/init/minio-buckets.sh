#!/bin/sh
# One-shot (minio/mc image): creates the data and models buckets if missing.
set -eu
for i in $(seq 1 60); do
  mc alias set store "${MINIO_ENDPOINT:?}" "${MINIO_ACCESS_KEY:?}" "${MINIO_SECRET_KEY:?}" >/dev/null 2>&1 && mc ready store >/dev/null 2>&1 && break
  [ "$i" -lt 60 ] || { echo "MinIO at $MINIO_ENDPOINT not ready after 120s" >&2; exit 1; }
  sleep 2
done
mc mb --ignore-existing "store/${DATA_BUCKET:-data}" "store/${MODELS_BUCKET:-models}"
