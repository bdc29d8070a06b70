#!/bin/bash
# One-shot (apache/kafka image): creates the system's topics if missing.
#  - TOPIC_REQUESTS (mdata): REQUEST_PARTITIONS partitions; requests are keyed
#    per user, and the model servers share them as consumer group model-server.
#  - TOPIC_MODELS (models): one partition, kept forever: a model server that
#    starts reads the latest descriptor on it to know which model serves.
#  - TOPIC_RESULTS, TOPIC_DLQ.
#  - TOPIC_RESULTS, TOPIC_SHADOWS and TOPIC_PURCHASES are keyed by the customer
#    id and joined by the online evaluator: the same partition count for all
#    three (co-partitioning, docs/design.md "Quality out").
set -euo pipefail
BOOTSTRAP=${KAFKA_BOOTSTRAP:?}
TOPICS=/opt/kafka/bin/kafka-topics.sh

for i in $(seq 1 60); do
  "$TOPICS" --bootstrap-server "$BOOTSTRAP" --list >/dev/null 2>&1 && break
  [ "$i" -lt 60 ] || { echo "Kafka at $BOOTSTRAP not reachable after 120s" >&2; exit 1; }
  sleep 2
done

create() { # create TOPIC PARTITIONS [--config k=v]...
  local topic=$1 partitions=$2; shift 2
  "$TOPICS" --bootstrap-server "$BOOTSTRAP" --create --if-not-exists \
    --topic "$topic" --partitions "$partitions" --replication-factor "${REPLICATION_FACTOR:-1}" "$@"
}
create "${TOPIC_REQUESTS:-mdata}" "${REQUEST_PARTITIONS:-3}"
create "${TOPIC_MODELS:-models}" 1 --config retention.ms=-1 --config retention.bytes=-1
create "${TOPIC_RESULTS:-recommendations}" "${REQUEST_PARTITIONS:-3}"
create "${TOPIC_SHADOWS:-recommendations-shadow}" "${REQUEST_PARTITIONS:-3}"
create "${TOPIC_PURCHASES:-purchases}" "${REQUEST_PARTITIONS:-3}"
create "${TOPIC_DLQ:-mdata-dlq}" 1 --config retention.ms=1209600000
"$TOPICS" --bootstrap-server "$BOOTSTRAP" --describe \
  --topic "${TOPIC_REQUESTS:-mdata},${TOPIC_MODELS:-models},${TOPIC_RESULTS:-recommendations},${TOPIC_SHADOWS:-recommendations-shadow},${TOPIC_PURCHASES:-purchases},${TOPIC_DLQ:-mdata-dlq}" 2>/dev/null \
  | grep -E '^Topic:' || true
