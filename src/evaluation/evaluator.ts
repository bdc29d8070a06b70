/**
 * The online evaluator: consumer group `online-evaluator` on the results,
 * shadow and purchases topics (co-partitioned, checked at start), the join
 * per partition (partitions.ts), checkpoints to MinIO and the consumer lag
 * (lag.ts) on a timer — and after each lag read the stall clocks and idle
 * advances (health.ts) — REST `/metrics` and `/healthz`. Wiring only; the
 * rules are in join-state.ts and docs/design.md, "Quality out".
 */
import type { Admin, Consumer } from 'kafkajs';
import type { Registry } from 'prom-client';
import type { Config } from '../config';
import { createKafka, ensureCoPartitioned } from '../messaging/kafka';
import { metricsAndHealthApi } from '../process/health-api';
import { errorText, jsonLineLogFor, type Log } from '../process/json-log';
import { createMinioClient } from '../storage/minio-client';
import { onlineStoreFor } from '../store/online-figures';
import { checkCoPartitioned, coPartitionedAssigner } from './co-partitioning';
import type { TopicRole } from './join-state';
import { healthOf, watchLag, type EvaluatorHealth } from './health';
import { ConsumerLag } from './lag';
import { createEvaluatorMetrics, type EvaluatorMetrics } from './metrics';
import { EvaluatorPartitions } from './partitions';

export const evaluatorLog: Log = jsonLineLogFor('online-evaluator');

export interface EvaluatorOptions {
  config: Config;
  port?: number;
  host?: string;
  /** partitions of the topics when this creates them (default 1); existing topics are only checked */
  partitions?: number;
  defaultMetrics?: boolean;
  log?: Log;
}

export interface OnlineEvaluator {
  url: string;
  metrics: Registry;
  health(): EvaluatorHealth;
  /** resolves once the consumer has joined its group */
  whenConsuming(): Promise<void>;
  /** writes the checkpoints of every changed partition now */
  checkpoint(): Promise<void>;
  close(): Promise<void>;
}

export const evaluatorTopics = (cfg: Config): Record<TopicRole, string> => ({
  results: cfg.topics.results,
  shadows: cfg.topics.shadows,
  purchases: cfg.purchases.topic,
});

/** Creates missing topics with the count of those that exist, then refuses to start unless the three have the same partition count. */
async function prepareTopics(cfg: Config, partitions: number): Promise<number> {
  const kafka = createKafka(cfg.kafka, '-evaluator-admin');
  const topics = Object.values(evaluatorTopics(cfg));
  await ensureCoPartitioned(kafka, topics, [], partitions);
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await checkCoPartitioned(admin, topics);
  } finally {
    await admin.disconnect();
  }
}

function consumerFor(cfg: Config): Consumer {
  return createKafka(cfg.kafka, '-evaluator').consumer({
    groupId: cfg.evaluator.groupId,
    partitionAssigners: [coPartitionedAssigner],
    allowAutoTopicCreation: false,
    maxWaitTimeInMs: 100,
    sessionTimeout: cfg.evaluator.sessionTimeoutMs,
  });
}

/** The lag of the partitions `owned` is assigned, read through an admin client of its own (connected by the caller). */
function lagOf(cfg: Config, owned: EvaluatorPartitions, gauge: EvaluatorMetrics['lag'], log: Log): { admin: Admin; lag: ConsumerLag } {
  const admin = createKafka(cfg.kafka, '-evaluator-lag').admin();
  const position = (role: TopicRole, partition: number) => owned.position(role, partition);
  return { admin, lag: new ConsumerLag({ admin, groupId: cfg.evaluator.groupId, topics: evaluatorTopics(cfg), gauge, position, log }) };
}

export async function startOnlineEvaluator(options: EvaluatorOptions): Promise<OnlineEvaluator> {
  const cfg = options.config;
  const log = options.log ?? evaluatorLog;
  const partitionCount = await prepareTopics(cfg, options.partitions ?? 1);
  const consumer = consumerFor(cfg);
  const store = onlineStoreFor(createMinioClient(cfg.minio), cfg);
  const holder: { parts?: EvaluatorPartitions } = {};
  const metrics = createEvaluatorMetrics(() => holder.parts?.joins() ?? [], { defaultMetrics: options.defaultMetrics });
  const { windowMs, graceMs, repeatHorizonMs } = cfg.evaluator;
  const topics = evaluatorTopics(cfg);
  const rules = { windowMs, graceMs, repeatHorizonMs };
  const owned = new EvaluatorPartitions({ consumer, store, topics, partitions: partitionCount, rules, metrics, log });
  holder.parts = owned;
  const { admin, lag } = lagOf(cfg, owned, metrics.lag, log);
  const run: { crashed?: string } = {};
  let markConsuming: () => void = () => undefined;
  const consuming = new Promise<void>((resolve) => (markConsuming = resolve));
  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    owned.reset();
    lag.assign(e.payload.memberAssignment);
    log('info', 'online evaluator consuming', { pid: process.pid, partitions: partitionCount, assigned: e.payload.memberAssignment });
    markConsuming();
  });
  consumer.on(consumer.events.CRASH, (e) => {
    if (!e.payload.restart) run.crashed = errorText(e.payload.error);
    log('error', 'evaluator consumer crashed', { error: errorText(e.payload.error), restart: e.payload.restart });
  });
  await admin.connect();
  await consumer.connect();
  await consumer.subscribe({ topics: Object.values(topics), fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: 1,
    eachBatch: (p) => owned.eachBatch(p),
  });
  const watch = { lag, owned, stallMs: cfg.evaluator.stallMs, idleMs: cfg.evaluator.idleMs };
  // the lag on the checkpoints' cadence, but on a timer of its own: a slow checkpoint round must not freeze it; an idle
  // advance is checkpointed at once (a restart then resumes past it)
  const timers = [
    setInterval(() => void owned.checkpoint(), cfg.evaluator.checkpointMs),
    setInterval(() => void watchLag(watch).then((advanced) => (advanced ? owned.checkpoint() : undefined)), cfg.evaluator.checkpointMs),
  ];
  const health = () => healthOf(watch, run.crashed);
  const app = metricsAndHealthApi(health, metrics.registry);
  const host = options.host ?? '127.0.0.1';
  await app.listen({ port: options.port ?? cfg.evaluator.port, host });
  const address = app.server.address();
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${typeof address === 'object' && address ? address.port : 0}`,
    metrics: metrics.registry,
    health,
    whenConsuming: () => consuming,
    checkpoint: () => owned.checkpoint(),
    close: () =>
      (closing ??= (async () => {
        for (const t of timers) clearInterval(t);
        await consumer.stop().catch(() => undefined);
        await owned.checkpoint();
        await consumer.disconnect().catch(() => undefined);
        await lag.idle();
        await admin.disconnect().catch(() => undefined);
        await app.close();
      })()),
  };
}
