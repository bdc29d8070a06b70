/**
 * The data publisher: consumer group `data-publisher` on the purchases
 * topic (one or many instances), segments into MinIO through SegmentWriter,
 * dead letters onto `purchases-dlq`, REST `/metrics` and `/healthz` on the
 * side. Wiring only; the protocol is in segment-writer.ts.
 */
import os from 'node:os';
import { Partitioners, type Consumer, type Producer } from 'kafkajs';
import type { Registry } from 'prom-client';
import type { Config } from '../config';
import { createKafka, customerKeyedTopics, ensureCoPartitioned, ensureTopics } from '../messaging/kafka';
import { PartitionProgress, stallProblems } from '../process/partition-progress';
import { createMinioClient } from '../storage/minio-client';
import type { SegmentStore } from '../store/segments';
import { metricsAndHealthApi } from '../process/health-api';
import { errorText, publisherLog, type Log } from './log';
import { connectClient } from '../temporal/connection';
import { createPublisherMetrics } from './metrics';
import { checkRetrainTrigger, scheduleBusy, scheduleTrigger } from './retrain-trigger';
import { SegmentWriter } from './segment-writer';
import { countFrom } from './active-history';
import { registryLocation } from '../store/registry';

export interface PublisherOptions {
  config: Config;
  /** consumer group; default config.purchases.groupId (`data-publisher`) */
  groupId?: string;
  /** REST port (0: any free port); default config.purchases.port (8091) */
  port?: number;
  host?: string;
  /** a partition with lag and no segment written for this long makes /healthz unhealthy; default 60 s */
  stallAfterMs?: number;
  /** partitions of the purchases topics when this creates them; default 1 */
  partitions?: number;
  defaultMetrics?: boolean;
  log?: Log;
}

export interface Health {
  ok: boolean;
  problems: string[];
  consuming: boolean;
}

export interface DataPublisher {
  url: string;
  health(): Health;
  metrics: Registry;
  writer: SegmentWriter;
  /** resolves once the consumer has joined its group */
  whenConsuming(): Promise<void>;
  close(): Promise<void>;
}

interface RunState {
  consuming: boolean;
  crashed?: string;
}

function healthOf(writer: SegmentWriter, progress: PartitionProgress, run: RunState, stallAfterMs: number): Health {
  const problems: string[] = [];
  if (run.crashed) problems.push(`purchases consumer stopped: ${run.crashed}`);
  const standings = writer
    .partitions()
    .map((s) => ({ partition: s.partition, behind: s.highWatermark - s.durable, progressAt: s.progressAt, failing: s.failing }));
  problems.push(...stallProblems(standings, stallAfterMs, 'segment written'));
  for (const stall of progress.stalled(stallAfterMs))
    problems.push(`partition ${stall.partition}: ${stall.failures} failed attempts: ${stall.reason}`);
  return { ok: problems.length === 0, problems, consuming: run.consuming };
}

/** How often the data trigger is checked (when RETRAIN_AFTER_PURCHASES is set). */
const TRIGGER_CHECK_MS = 5_000;

/** Checks the data trigger on a timer, one check at a time; returns its stop function. */
async function startRetrainTrigger(cfg: Config, store: SegmentStore, log: Log): Promise<() => Promise<void>> {
  if (cfg.purchases.retrainAfter === 0) return async () => undefined;
  const client = await connectClient(cfg.temporal);
  const deps = {
    store,
    retrainAfter: cfg.purchases.retrainAfter,
    trigger: scheduleTrigger(client, cfg.temporal.scheduleId),
    busy: scheduleBusy(client, cfg.temporal.scheduleId),
    since: () => countFrom(store, { client: store.client, loc: registryLocation(cfg) }),
    claimant: `${os.hostname()}:${process.pid}`,
  };
  let running: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    running = running.then(async () => {
      try {
        const check = await checkRetrainTrigger(deps);
        if (check.outcome === 'triggered') {
          log('info', 'retrain triggered by data', {
            schedule: cfg.temporal.scheduleId,
            records: check.records.toString(),
            since: check.sinceHistory,
            reason: check.text,
          });
        }
      } catch (err) {
        log('warn', 'checking the data trigger failed', { error: errorText(err) });
      }
    });
  }, TRIGGER_CHECK_MS);
  return async () => {
    clearInterval(timer);
    await running;
    await client.connection.close();
  };
}

/** The purchases topic with the partition count of the results topic when it exists (co-partitioned, docs/design.md). */
async function ensurePurchaseTopics(config: Config, partitions: number, log: Log): Promise<void> {
  const kafka = createKafka(config.kafka, '-data-publisher-admin');
  await ensureTopics(kafka, { dlq: config.purchases.dlqTopic }, partitions);
  const { mismatch } = await ensureCoPartitioned(kafka, [config.purchases.topic], customerKeyedTopics(config), partitions);
  if (mismatch) log('error', mismatch, { topics: customerKeyedTopics(config) });
}

export async function startDataPublisher(options: PublisherOptions): Promise<DataPublisher> {
  const cfg = options.config;
  const log = options.log ?? publisherLog;
  const metrics = createPublisherMetrics({ defaultMetrics: options.defaultMetrics });
  const progress = new PartitionProgress();
  const run: RunState = { consuming: false };
  await ensurePurchaseTopics(cfg, options.partitions ?? 1, log);
  const kafka = createKafka(cfg.kafka, '-data-publisher');
  const producer: Producer = kafka.producer({
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  const consumer: Consumer = kafka.consumer({
    groupId: options.groupId ?? cfg.purchases.groupId,
    allowAutoTopicCreation: false,
    maxWaitTimeInMs: 100,
    sessionTimeout: cfg.purchases.sessionTimeoutMs,
  });
  const store = { client: createMinioClient(cfg.minio), bucket: cfg.buckets.data, dataPrefix: cfg.dataPrefix, topic: cfg.purchases.topic };
  const stopTrigger = await startRetrainTrigger(cfg, store, log);
  const writer = new SegmentWriter({ consumer, producer, store, purchases: cfg.purchases, metrics, progress, log });
  let markConsuming: () => void = () => undefined;
  const consuming = new Promise<void>((resolve) => (markConsuming = resolve));
  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    writer.reset();
    run.consuming = true;
    log('info', 'data publisher consuming', { pid: process.pid, topic: store.topic, assigned: e.payload.memberAssignment });
    markConsuming();
  });
  consumer.on(consumer.events.CRASH, (e) => {
    run.consuming = false;
    if (!e.payload.restart) run.crashed = errorText(e.payload.error);
    log('error', 'purchases consumer crashed', { error: errorText(e.payload.error), restart: e.payload.restart });
  });
  await producer.connect();
  await consumer.connect();
  await consumer.subscribe({ topic: store.topic, fromBeginning: true });
  const timer = setInterval(
    () => void writer.flushAged().catch((err: unknown) => log('warn', 'timed flush failed', { error: errorText(err) })),
    // a tenth of the age limit: a buffer is written at most 10 % later than its age allows (the check is a loop over the partitions)
    Math.max(10, Math.min(1000, cfg.purchases.segment.maxAgeMs / 10)),
  );
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: 4,
    eachBatch: (p) => writer.eachBatch(p),
  });
  const health = () => healthOf(writer, progress, run, options.stallAfterMs ?? 60_000);
  const app = metricsAndHealthApi(health, metrics.registry);
  await app.listen({ port: options.port ?? cfg.purchases.port, host: options.host ?? '127.0.0.1' });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    health,
    metrics: metrics.registry,
    writer,
    whenConsuming: () => consuming,
    close: () =>
      (closing ??= (async () => {
        clearInterval(timer);
        // a graceful stop writes what is buffered; a crash leaves it to be consumed again (nothing is committed before its segment)
        await consumer.stop().catch(() => undefined);
        await writer.flushAll().catch((err: unknown) => log('warn', 'final flush failed', { error: errorText(err) }));
        await consumer.disconnect().catch(() => undefined);
        await producer.disconnect().catch(() => undefined);
        await stopTrigger();
        await app.close();
      })()),
  };
}
