/** Where a request came from on Kafka: its id for deduplication downstream. */

export interface SourceRecord {
  topic: string;
  partition: number;
  /** Kafka offsets are int64: kept as the decimal string kafkajs gives */
  offset: string;
}

/**
 * `<topic>:<partition>:<offset>`, unique per request record. Kafka topic
 * names cannot contain ':', so the id splits back unambiguously. A request
 * answered twice (at-least-once delivery after a crash) has the same id both times.
 */
export function requestId(source: SourceRecord): string {
  return `${source.topic}:${source.partition}:${source.offset}`;
}
