/**
 * Prometheus metrics of one data publisher, in a registry of its own (as the
 * model server's, src/serving/model-server/metrics.ts: several in one
 * process, as in tests, do not collide).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface PublisherMetrics {
  registry: Registry;
  /** purchase records consumed, by outcome: kept, duplicate, dead-letter */
  records: Counter<'outcome'>;
  deadLetters: Counter<'code'>;
  segments: Counter;
  /** segment writes lost to another writer (the partition is re-read from MinIO) */
  conflicts: Counter;
  flushFailures: Counter;
  segmentWrite: Histogram;
  buffered: Gauge;
  lag: Gauge<'partition'>;
}

export function createPublisherMetrics(options: { defaultMetrics?: boolean } = {}): PublisherMetrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'data_publisher_' });
  const registers = [registry];
  return {
    registry,
    records: new Counter({
      name: 'data_publisher_records_total',
      help: 'Purchase records consumed, by outcome (kept, duplicate, dead-letter)',
      labelNames: ['outcome'],
      registers,
    }),
    deadLetters: new Counter({
      name: 'data_publisher_dlq_total',
      help: 'Purchase records sent to the dead-letter topic, by rejection code',
      labelNames: ['code'],
      registers,
    }),
    segments: new Counter({ name: 'data_publisher_segments_total', help: 'Segments written to MinIO', registers }),
    conflicts: new Counter({
      name: 'data_publisher_segment_conflicts_total',
      help: 'Segment writes lost to another writer of the same partition (state re-read from MinIO)',
      registers,
    }),
    flushFailures: new Counter({ name: 'data_publisher_flush_failures_total', help: 'Segment flushes that failed (retried)', registers }),
    segmentWrite: new Histogram({
      name: 'data_publisher_segment_write_seconds',
      help: 'Time to write one segment (dead letters, then the conditional create)',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    buffered: new Gauge({ name: 'data_publisher_buffered_purchases', help: 'Purchases buffered for the next segments', registers }),
    lag: new Gauge({
      name: 'data_publisher_lag',
      help: 'Records of a partition not yet in a segment (high watermark at the last batch minus the chain end)',
      labelNames: ['partition'],
      registers,
    }),
  };
}
