/**
 * The demo's data (issue 22): the seed's real purchases, the first part as
 * the starting history and the rest replayed as a live stream through the
 * data publisher, which triggers the demo's schedule every `retrainAfter`
 * purchases. Everything lives apart from the user's own data: the demo's
 * data prefix (emptied when a demo starts) and purchase topics of its own
 * run (deleted when it ends), so that a demo never folds an earlier demo's
 * purchases into its history.
 */
import path from 'node:path';
import type { Kafka } from 'kafkajs';
import { loadConfig, type Config } from '../../config';
import { spawnEntry, waitForLog, type Managed } from '../../process/children';
import { listKeys, removeKeys } from '../../storage/objects';
import { demoRegistryKey } from '../../store/layout';
import { chainEnd, listSegments, segmentPartitions, type SegmentStore } from '../../store/segments';
import { publishStartingHistory, streamPurchases, type ReplayOptions, type StreamHooks } from '../replay';
import type { createMinioClient } from '../../storage/minio-client';

/** The seed's real purchases (data/seed/README.md). */
export const SEED_TRANSACTIONS = path.join(__dirname, '..', '..', '..', 'data', 'seed', 'transactions.csv');

/** The demo turns the online rollback policy on (it is off by default): purchases paired with the previous model's shadow first. */
export const DEMO_ROLLBACK_MIN_PAIRS = 100;

export interface DemoData {
  /** the demo's configuration: its schedule, data prefix and purchase topics */
  cfg: Config;
  /** the variables that give the workers and the data publisher that configuration */
  env: NodeJS.ProcessEnv;
}

/** The demo's own schedule id, data prefix and (per run) purchase topics, and the data trigger's threshold. */
export function demoData(base: NodeJS.ProcessEnv, retrainAfter: number, runStamp: string): DemoData {
  const user = loadConfig(base);
  const env: NodeJS.ProcessEnv = {
    ...base,
    SCHEDULE_ID: `${user.temporal.scheduleId}-demo`,
    DATA_PREFIX: `${user.dataPrefix}-demo`,
    TOPIC_PURCHASES: `${user.purchases.topic}-demo-${runStamp}`,
    TOPIC_PURCHASES_DLQ: `${user.purchases.dlqTopic}-demo-${runStamp}`,
    // answers and shadows of this run only: the online evaluator joins in event time, and the replay's visits lie in
    // the past (its event times end now), so anyone else's answers on a shared topic would make every one of them late
    TOPIC_RESULTS: `${user.topics.results}-demo-${runStamp}`,
    TOPIC_SHADOWS: `${user.topics.shadows}-demo-${runStamp}`,
    // deployments of this run only: no model of an earlier run (trained on purchases this run replays) serves its visits
    TOPIC_MODELS: `${user.topics.models}-demo-${runStamp}`,
    REGISTRY_KEY: demoRegistryKey(runStamp),
    RETRAIN_AFTER_PURCHASES: String(retrainAfter),
    // the online evaluator's group of this run (its checkpoints name the run's purchase topic), and the rollback policy on
    EVALUATOR_GROUP: `${user.evaluator.groupId}-demo-${runStamp}`,
    ONLINE_ROLLBACK_MIN_PAIRS: base.ONLINE_ROLLBACK_MIN_PAIRS ?? String(DEMO_ROLLBACK_MIN_PAIRS),
  };
  return { cfg: loadConfig(env), env };
}

export const segmentStore = (cfg: Config, client: ReturnType<typeof createMinioClient>): SegmentStore => ({
  client,
  bucket: cfg.buckets.data,
  dataPrefix: cfg.dataPrefix,
  topic: cfg.purchases.topic,
});

/** Empties the demo's data prefix (an earlier demo's history, segments and trigger markers). */
export async function clearDemoData(cfg: Config, client: ReturnType<typeof createMinioClient>): Promise<number> {
  const keys = await listKeys(client, cfg.buckets.data, `${cfg.dataPrefix}/`);
  for (let i = 0; i < keys.length; i += 1000) await removeKeys(client, cfg.buckets.data, keys.slice(i, i + 1000));
  return keys.length;
}

/** The data publisher, as the workers: a child logging beside them; up once it has joined its group (`publisherUp`). */
export function spawnDataPublisher(env: NodeJS.ProcessEnv, logDir: string, exitWithParent: boolean): Managed {
  // any free port: a publisher of the user's own may hold the default one
  return spawnEntry('data-publisher', 'src/ingest/main.ts', ['--port', '0'], logDir, { env, exitWithParent });
}

export const publisherUp = (publisher: Managed): Promise<void> => waitForLog(publisher, /data publisher consuming/, 120_000);

export interface Replaying {
  baseLines: number;
  streamLines: number;
  /** settles when the stream ends or is stopped, with the purchases sent */
  done: Promise<number>;
}

/** Publishes the starting history (replacing the demo's), then streams the rest until the signal aborts. */
export async function startReplay(
  cfg: Config,
  opts: Pick<ReplayOptions, 'start' | 'rate' | 'stepMs'>,
  hooks: StreamHooks,
): Promise<Replaying> {
  const options: ReplayOptions = { file: SEED_TRANSACTIONS, start: opts.start, rate: opts.rate, stepMs: opts.stepMs, replace: true };
  const start = await publishStartingHistory(cfg, options);
  const done = streamPurchases(cfg, start, options, hooks).then((r) => r.purchases);
  return { baseLines: start.baseLines, streamLines: start.lines.length - start.baseLines, done };
}

/** What the data publisher has written: segments and the records they hold (offsets covered). */
export async function ingestedSoFar(store: SegmentStore): Promise<{ segments: number; records: bigint }> {
  let segments = 0;
  let records = 0n;
  for (const p of await segmentPartitions(store)) {
    const chain = await listSegments(store, p);
    segments += chain.length;
    records += chain.length ? (await chainEnd(store, chain)) - chain[0].first : 0n;
  }
  return { segments, records };
}

/** Deletes the run's purchase, answer, shadow and model-URL topics (best effort: the demo ends either way). */
export async function deleteDemoTopics(kafka: Kafka, cfg: Config): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const topics = [cfg.purchases.topic, cfg.purchases.dlqTopic, cfg.topics.results, cfg.topics.shadows, cfg.topics.models];
    await admin.deleteTopics({ topics, timeout: 10_000 });
  } finally {
    await admin.disconnect();
  }
}
