/**
 * Prometheus metrics of one slot, in a registry of its own (several slots in
 * one process, as in tests, do not collide). Served at GET /metrics.
 */
import { Counter, Histogram, Registry } from 'prom-client';

export interface SlotMetrics {
  registry: Registry;
  /** predict calls answered, by API (rest, grpc) and outcome (ok, invalid, not_found, error) */
  predictCalls: Counter<'api' | 'outcome'>;
  /** rows scored by predict calls */
  predictRows: Counter<'api'>;
  /** seconds per predict call, parse to reply */
  predictSeconds: Histogram<'api'>;
  /** warm-up records replayed before a version became AVAILABLE */
  warmupRecords: Counter<'version'>;
}

export function createSlotMetrics(): SlotMetrics {
  const registry = new Registry();
  const registers = [registry];
  return {
    registry,
    predictCalls: new Counter({
      name: 'slot_predict_calls_total',
      help: 'Predict calls answered, by API and outcome',
      labelNames: ['api', 'outcome'],
      registers,
    }),
    predictRows: new Counter({ name: 'slot_predict_rows_total', help: 'Rows scored by predict calls', labelNames: ['api'], registers }),
    predictSeconds: new Histogram({
      name: 'slot_predict_seconds',
      help: 'Seconds per predict call, from parsing to the reply',
      labelNames: ['api'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    }),
    warmupRecords: new Counter({
      name: 'slot_warmup_records_total',
      help: 'Warm-up records (assets.extra/tf_serving_warmup_requests) replayed before a version became AVAILABLE',
      labelNames: ['version'],
      registers,
    }),
  };
}
