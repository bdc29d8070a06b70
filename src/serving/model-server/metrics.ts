/**
 * Prometheus metrics of one model server, in a registry of its own (several
 * servers in one process, as in tests, do not collide).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { RejectionCode } from './request-validation';
import type { ResultOutcome } from '../../messaging/result';

export interface ServerMetrics {
  registry: Registry;
  /** requests answered on the results topic, by outcome; dead letters by reason */
  requests: Counter<'outcome'>;
  deadLetters: Counter<'code'>;
  /** model-server time per answered request */
  latency: Histogram<'outcome'>;
  /** version of the model serving now (absent before the first descriptor) */
  modelVersion: Gauge<'name' | 'slot'>;
  modelSwitches: Counter;
  descriptorsRejected: Counter;
  /** descriptors under a configured slot naming a version the slot cannot serve */
  descriptorsSetAside: Counter;
  predictRetries: Counter;
  /** times a partition was paused because the slot stayed unavailable through all retries */
  unavailablePauses: Counter;
  /** shadow records written, by kind (popularity, previous-model) */
  shadows: Counter<'kind'>;
  /** previous-model shadows not written, by reason (queue-full, standby-unavailable, standby-same-version, standby-rejected, write-failed) */
  shadowDrops: Counter<'reason'>;
  /** previous-model shadows waiting in the queue */
  shadowQueueDepth: Gauge;
}

/** Why a sampled previous-model shadow was not written. */
export type ShadowDropReason =
  'queue-full' | 'standby-unavailable' | 'standby-same-version' | 'standby-not-previous' | 'standby-rejected' | 'write-failed';

export function createMetrics(options: { defaultMetrics?: boolean } = {}): ServerMetrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'model_server_' });
  const registers = [registry];
  return {
    registry,
    requests: new Counter({
      name: 'model_server_requests_total',
      help: 'Requests answered on the results topic, by outcome (scored, fallback, error)',
      labelNames: ['outcome'],
      registers,
    }),
    deadLetters: new Counter({
      name: 'model_server_dlq_total',
      help: 'Request records sent to the dead-letter topic, by rejection code',
      labelNames: ['code'],
      registers,
    }),
    latency: new Histogram({
      name: 'model_server_request_latency_seconds',
      help: 'Model-server time per answered request (predict call, retries, fallback lookup)',
      labelNames: ['outcome'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    modelVersion: new Gauge({
      name: 'model_server_model_version',
      help: 'Version of the model serving now (-1 when its URL names no version)',
      labelNames: ['name', 'slot'],
      registers,
    }),
    modelSwitches: new Counter({ name: 'model_server_model_switches_total', help: 'Switches to a new model URL', registers }),
    descriptorsRejected: new Counter({
      name: 'model_server_descriptors_rejected_total',
      help: 'Records on the models topic ignored as undecodable or not naming a predict URL',
      registers,
    }),
    descriptorsSetAside: new Counter({
      name: 'model_server_descriptors_set_aside_total',
      help: 'Descriptors set aside: their slot cannot serve the version they name (not its newest claimed, complete version)',
      registers,
    }),
    predictRetries: new Counter({
      name: 'model_server_predict_retries_total',
      help: 'Predict calls retried after an unavailable slot',
      registers,
    }),
    unavailablePauses: new Counter({
      name: 'model_server_unavailable_pauses_total',
      help: 'Partitions paused because the slot stayed unavailable through all retries (requests left uncommitted)',
      registers,
    }),
    shadows: new Counter({
      name: 'model_server_shadows_total',
      help: 'Shadow records written to the shadow topic, by kind (popularity, previous-model)',
      labelNames: ['kind'],
      registers,
    }),
    shadowDrops: new Counter({
      name: 'model_server_shadow_drops_total',
      help: 'Sampled previous-model shadows not written, by reason (queue-full, standby-unavailable, standby-same-version, standby-rejected, write-failed)',
      labelNames: ['reason'],
      registers,
    }),
    shadowQueueDepth: new Gauge({
      name: 'model_server_shadow_queue_depth',
      help: 'Previous-model shadows waiting to be scored on the standby slot',
      registers,
    }),
  };
}

/** Typed helpers so call sites cannot mistype a label value. */
export function countAnswered(m: ServerMetrics, outcome: ResultOutcome, latencyMs: number): void {
  m.requests.inc({ outcome });
  m.latency.observe({ outcome }, latencyMs / 1000);
}

export function countDeadLetter(m: ServerMetrics, code: RejectionCode): void {
  m.deadLetters.inc({ code });
}
