#!/bin/sh
# One-shot (temporalio/admin-tools image): waits for the namespace, then
# registers the retrain-and-deploy workflow's custom search attributes.
# Idempotent: an attribute already registered with the same type is left
# alone; one registered with another type is an error that needs a human.
set -eu
ADDRESS=${TEMPORAL_ADDRESS:?}
NAMESPACE=${TEMPORAL_NAMESPACE:-default}

tries=0
until temporal operator namespace describe --address "$ADDRESS" --namespace "$NAMESPACE" >/dev/null 2>&1; do
  tries=$((tries + 1))
  [ "$tries" -le 90 ] || { echo "namespace $NAMESPACE not available on $ADDRESS after 180s" >&2; exit 1; }
  sleep 2
done

existing=$(temporal operator search-attribute list --address "$ADDRESS" --namespace "$NAMESPACE")
for spec in RecommenderModelVersion:Int RecommenderSlot:Keyword RecommenderHitRate10:Double RecommenderOutcome:Keyword; do
  name=${spec%%:*} type=${spec#*:}
  have=$(printf '%s\n' "$existing" | awk -v n="$name" '$1 == n { print $2 }')
  if [ -z "$have" ]; then
    temporal operator search-attribute create --address "$ADDRESS" --namespace "$NAMESPACE" --name "$name" --type "$type"
    echo "registered search attribute $name ($type)"
  elif [ "$have" = "$type" ]; then
    echo "search attribute $name ($type) already registered"
  else
    echo "search attribute $name is registered as $have, expected $type" >&2
    exit 1
  fi
done
