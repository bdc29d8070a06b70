#!/bin/sh
# One-shot (minio/mc image), safe to run again: creates the buckets, the
# policies of policies/*.json (bucket names substituted), and one MinIO user
# per component with only its policy (docs/deploying.md, "Identities and
# rights"). The only place the root credential is used besides MinIO itself.
#
# Environment: MINIO_ENDPOINT, MINIO_ROOT_USER, MINIO_ROOT_PASSWORD,
# DATA_BUCKET, MODELS_BUCKET, POLICY_DIR (the JSON files), and per identity
# MINIO_<NAME>_ACCESS_KEY / MINIO_<NAME>_SECRET_KEY, NAME being the
# component in upper case with '_' for '-' (TRAINING_WORKER, ...).
set -eu
: "${MINIO_ENDPOINT:?}" "${MINIO_ROOT_USER:?}" "${MINIO_ROOT_PASSWORD:?}"
DATA_BUCKET=${DATA_BUCKET:-data} MODELS_BUCKET=${MODELS_BUCKET:-models}
POLICY_DIR=${POLICY_DIR:-/setup/policies}
# component:policy
IDENTITIES=${IDENTITIES:-"training-worker:recommender-training serving-worker:recommender-models-read slots:recommender-models-read data-publisher:recommender-data-write online-evaluator:recommender-online-evaluator"}
export MC_CONFIG_DIR=${MC_CONFIG_DIR:-/tmp/mc}

i=0
until mc alias set store "$MINIO_ENDPOINT" "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD" >/dev/null 2>&1 && mc ready store >/dev/null 2>&1; do
  i=$((i + 1))
  [ "$i" -lt 60 ] || { echo "MinIO at $MINIO_ENDPOINT not ready after 180s" >&2; exit 1; }
  sleep 3
done
mc mb --ignore-existing "store/$DATA_BUCKET" "store/$MODELS_BUCKET"

tmp=$(mktemp -d)
for identity in $IDENTITIES; do
  user=${identity%%:*} policy=${identity#*:}
  var=$(printf '%s' "$user" | tr 'a-z-' 'A-Z_')
  eval "access=\${MINIO_${var}_ACCESS_KEY:-} secret=\${MINIO_${var}_SECRET_KEY:-}"
  [ -n "$access" ] && [ -n "$secret" ] || { echo "MINIO_${var}_ACCESS_KEY and MINIO_${var}_SECRET_KEY must be set (identity $user)" >&2; exit 1; }
  [ "$access" != "$MINIO_ROOT_USER" ] || { echo "identity $user must not use the root account" >&2; exit 1; }
  sed -e "s/DATA_BUCKET/$DATA_BUCKET/g" -e "s/MODELS_BUCKET/$MODELS_BUCKET/g" "$POLICY_DIR/$policy.json" >"$tmp/$policy.json"
  mc admin policy create store "$policy" "$tmp/$policy.json" >/dev/null
  mc admin user add store "$access" "$secret" >/dev/null
  # attaching a policy that is attached already is refused; anything else fails the Job
  out=$(mc admin policy attach store "$policy" --user "$access" 2>&1) || case "$out" in
    *"already in effect"*) ;;
    *) echo "$out" >&2; exit 1 ;;
  esac
  echo "identity $user: user $access, policy $policy"
done
rm -rf "$tmp"
