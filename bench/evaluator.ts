/**
 * Online evaluator benchmark (issue 23):
 *   1. records/s through the evaluator (src/evaluation/evaluator.ts, as
 *      deployed: decode, join, checkpoints to MinIO every 500 ms), timed from
 *      joining its group until its checkpoints reach every high watermark,
 *      beside the ANCHOR measured in the same run: a plain kafkajs consumer
 *      of the same three topics doing nothing but count (same machine,
 *      same records, both in this process, one after the other);
 *   2. the join state of a 1,000,000-customer window (every customer with a
 *      served request, a shadow answer and a purchase inside the window, so
 *      nothing can be forgotten), in a child process: peak RSS (VmHWM) beside
 *      the child's RSS before; its checkpoint as written to MinIO (schema 2:
 *      head and state chunks): the first, whole one, then the next after 5 s
 *      more of traffic at the flood rate — beside the schema 1 body of the
 *      same state (the whole state as one JSON object every time);
 *   3. --flood: lag under the Kafka path's flood rate (5,000 requests/s, each
 *      with its popularity shadow, a previous-model shadow for 10 %, and a
 *      purchase) produced for --flood-seconds while the evaluator consumes:
 *      its consumer lag (records produced and not yet read) every second,
 *      bounded when it does not grow, and this process's peak RSS.
 *
 *   npm run bench:evaluator [-- --lines 60000 --partitions 2 --customers 1000000]
 *   npm run bench:evaluator -- --flood 5000 [--flood-seconds 60 --partitions 2]
 * Runs on private topics and a private group, removed afterwards.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Command } from 'commander';
import { Partitioners, type Kafka, type Message } from 'kafkajs';
import { integerArg } from '../src/arg-parsers';
import { loadConfig, type Config } from '../src/config';
import { evaluatorTopics, startOnlineEvaluator } from '../src/evaluation/evaluator';
import { PartitionJoin, TOPIC_ROLES, type TopicRole } from '../src/evaluation/join-state';
import { commitCheckpoint, prepareCheckpoint, type PartitionState } from '../src/evaluation/partition-checkpoint';
import { encodeResult, type RecommendationResult } from '../src/messaging/result';
import { encodePurchase } from '../src/messaging/schemas';
import { encodeShadow, type ShadowKind } from '../src/messaging/shadow-result';
import { createKafka, ensureTopics } from '../src/messaging/kafka';
import { silentLog } from '../src/process/json-log';
import { entryCommand } from '../src/process/children';
import { createMinioClient } from '../src/storage/minio-client';
import { listKeys, removeKeys } from '../src/storage/objects';
import { onlineGroupPrefix } from '../src/store/layout';
import { onlineStoreFor, readCheckpoints, type OnlineStore } from '../src/store/online-figures';
import { seedTraffic } from '../test/evaluation/traffic';

function vmHwmMiB(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}
const rssMiB = () => process.memoryUsage().rss / 1024 / 1024;

async function produceAll(kafka: Kafka, cfg: Config, lines: number): Promise<number> {
  const traffic = seedTraffic(1, Math.min(lines + 1, 62_000));
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const topics = evaluatorTopics(cfg);
  let n = 0;
  for (const role of TOPIC_ROLES) {
    const all: Message[] = traffic[role];
    for (let i = 0; i < all.length; i += 1_000) await producer.send({ topic: topics[role], messages: all.slice(i, i + 1_000) });
    n += all.length;
  }
  await producer.disconnect();
  return n;
}

/** The anchor: a plain consumer of the three topics, counting records; seconds from joining to the last record. */
async function plainConsume(kafka: Kafka, cfg: Config, total: number): Promise<number> {
  const consumer = kafka.consumer({ groupId: `bench-plain-${randomUUID().slice(0, 8)}`, maxWaitTimeInMs: 100 });
  let n = 0;
  let joined = 0;
  consumer.on(consumer.events.GROUP_JOIN, () => (joined = performance.now()));
  await consumer.connect();
  await consumer.subscribe({ topics: Object.values(evaluatorTopics(cfg)), fromBeginning: true });
  await consumer.run({ eachBatch: async ({ batch }) => void (n += batch.messages.length) });
  while (n < total) await sleep(5);
  const seconds = (performance.now() - joined) / 1000;
  await consumer.disconnect();
  return seconds;
}

/** The evaluator: seconds from joining its group until every partition's checkpoint is at the high watermarks. */
async function evaluate(cfg: Config, partitions: number, highs: Map<string, bigint>): Promise<{ seconds: number; followed: number }> {
  const evaluator = await startOnlineEvaluator({ config: cfg, port: 0, defaultMetrics: false, log: silentLog });
  await evaluator.whenConsuming();
  const start = performance.now();
  const store = { client: createMinioClient(cfg.minio), bucket: cfg.buckets.models, group: cfg.evaluator.groupId };
  const topics = evaluatorTopics(cfg);
  for (;;) {
    // a read racing a checkpoint write may be reset by MinIO: read again
    const cps = await readCheckpoints(store).catch(() => []);
    const done =
      cps.length === partitions &&
      cps.every((c) => TOPIC_ROLES.every((r) => BigInt(c.offsets[r]) >= (highs.get(`${topics[r]}:${c.partition}`) ?? 0n)));
    if (done) {
      const seconds = (performance.now() - start) / 1000;
      const followed = cps.reduce((n, c) => n + Object.values(c.state.figures).reduce((m, f) => m + f.followed, 0), 0);
      await evaluator.close();
      return { seconds, followed };
    }
    await sleep(100);
  }
}

async function highWatermarks(kafka: Kafka, cfg: Config): Promise<Map<string, bigint>> {
  const admin = kafka.admin();
  await admin.connect();
  const highs = new Map<string, bigint>();
  for (const topic of Object.values(evaluatorTopics(cfg)))
    for (const o of await admin.fetchTopicOffsets(topic)) highs.set(`${topic}:${o.partition}`, BigInt(o.high));
  await admin.disconnect();
  return highs;
}

/** The topics and evaluator group of one bench run: its own, so a run never reads another's records or checkpoints. */
const benchTopics = (id: string) => ({
  TOPIC_RESULTS: `bench-recommendations-${id}`,
  TOPIC_SHADOWS: `bench-shadows-${id}`,
  TOPIC_PURCHASES: `bench-purchases-${id}`,
  EVALUATOR_GROUP: `bench-evaluator-${id}`,
});

async function throughput(lines: number, partitions: number): Promise<void> {
  const id = randomUUID().slice(0, 8);
  const cfg = loadConfig({
    ...process.env,
    ...benchTopics(id),
    EVALUATOR_CHECKPOINT_MS: '500',
    EVALUATOR_WINDOW_MS: String(30 * 60_000),
    EVALUATOR_GRACE_MS: String(5 * 60_000),
  });
  const kafka = createKafka(cfg.kafka, '-bench');
  await ensureTopics(kafka, evaluatorTopics(cfg), partitions);
  try {
    const total = await produceAll(kafka, cfg, lines);
    const highs = await highWatermarks(kafka, cfg);
    const anchor = await plainConsume(kafka, cfg, total);
    const ev = await evaluate(cfg, partitions, highs);
    console.log(`records: ${total} over ${partitions} partitions of each of the three topics (${lines} seed lines)`);
    console.log(`ANCHOR plain kafkajs consume: ${anchor.toFixed(2)} s, ${Math.round(total / anchor)} records/s`);
    console.log(
      `evaluator (decode, join, checkpoints): ${ev.seconds.toFixed(2)} s, ${Math.round(total / ev.seconds)} records/s; ${ev.followed} followed purchases`,
    );
    console.log(`ratio evaluator / anchor throughput: ${(anchor / ev.seconds).toFixed(2)}`);
  } finally {
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: Object.values(evaluatorTopics(cfg)) }).catch(() => undefined);
    await admin.disconnect();
    const client = createMinioClient(cfg.minio);
    await removeKeys(client, cfg.buckets.models, await listKeys(client, cfg.buckets.models, onlineGroupPrefix(cfg.evaluator.groupId)));
  }
}

const TOP = [2, 20, 23, 29, 68, 86, 107, 111, 152, 164];

/** Customers [from, to) of `customers`, spread over an hour from t0: each a request, a shadow answer and a purchase. */
function fillWindow(join: PartitionJoin, from: number, to: number, customers: number, t0: number): void {
  for (let u = from; u < to; u++) {
    const at = t0 + Math.floor((u / customers) * 3_600_000); // an hour of traffic, inside the day's window
    const requestId = `mdata:0:${u}`;
    join.served({ requestId, user: u, eventTime: at, slot: 'recommender', version: 1, top: TOP });
    join.shadow({ requestId, shadow: 'popularity', eventTime: at, top: TOP });
    join.purchase({ id: `p-${u}`, user: u, eventTime: at + 1, products: [TOP[u % 10], 1000 + (u % 500)] });
  }
}

interface CheckpointFigures {
  MiB: number;
  objects: number;
  seconds: number;
  chunks: number;
}

/** One checkpoint of the partition to MinIO as the evaluator writes it: bytes and objects written, seconds to prepare and write. */
async function timedCheckpoint(store: OnlineStore, s: PartitionState): Promise<CheckpointFigures> {
  const started = performance.now();
  const prepared = prepareCheckpoint(store, { results: 'r', shadows: 's', purchases: 'p' }, s);
  const bytes = prepared.plan.bodies.reduce((n, b) => n + b.body.length, 0);
  const outcome = await commitCheckpoint(store, s, prepared);
  if (!outcome.written) throw new Error('checkpoint lost');
  await outcome.garbage;
  const seconds = (performance.now() - started) / 1000;
  return { MiB: bytes / 1024 / 1024, objects: prepared.plan.bodies.length + 1, seconds, chunks: s.chunks.length };
}

/** In the child: a window holding `customers` customers, each with a request, a shadow answer and a purchase. */
async function windowState(customers: number): Promise<void> {
  const before = rssMiB();
  const rules = { windowMs: 86_400_000, graceMs: 60_000, repeatHorizonMs: 30 * 86_400_000 };
  const join = new PartitionJoin(rules);
  const t0 = 1_800_000_000_000;
  const started = performance.now();
  fillWindow(join, 0, customers, customers, t0);
  const seconds = (performance.now() - started) / 1000;
  const sizes = join.sizes();
  const statePeak = vmHwmMiB();
  const cfg = loadConfig();
  const store = onlineStoreFor(createMinioClient(cfg.minio), {
    ...cfg,
    evaluator: { ...cfg.evaluator, groupId: `bench-window-${randomUUID().slice(0, 8)}` },
  });
  try {
    const s: PartitionState = {
      partition: 0,
      join,
      next: { results: 0n, shadows: 0n, purchases: 0n },
      etag: null,
      chunks: [],
      orphans: [],
    };
    const first = await timedCheckpoint(store, s);
    // 5 s of the flood rate (5,000 requests/s) after the hour: what the next checkpoint writes
    fillWindow(join, customers, customers + 25_000, customers, t0);
    const next = await timedCheckpoint(store, s);
    const chunkedPeak = vmHwmMiB();
    const t = performance.now();
    const whole = Buffer.from(JSON.stringify(join.snapshot()));
    const wholeSeconds = (performance.now() - t) / 1000;
    const wholeMiB = whole.length / 1024 / 1024;
    console.log(
      JSON.stringify({
        customers,
        before,
        statePeak,
        seconds,
        sizes,
        first,
        next,
        chunkedPeak,
        wholeMiB,
        wholeSeconds,
        wholePeak: vmHwmMiB(),
      }),
    );
  } finally {
    await removeKeys(store.client, store.bucket, await listKeys(store.client, store.bucket, onlineGroupPrefix(store.group)));
  }
}

/** The records of request i at `at` (customer i·7919 mod 1,000,000): its result, shadow answers and purchase, by topic. */
function floodRecords(i: number, at: number): Record<TopicRole, Message[]> {
  const user = (i * 7919) % 1_000_000;
  const requestId = `flood:0:${i}`;
  const ranked = TOP.map((product, k) => ({ product, score: 10 - k }));
  const model = {
    name: 'recommender',
    slot: 'recommender',
    version: 1,
    url: 'http://127.0.0.1:8501/v1/models/recommender/versions/1:predict',
  };
  const result = encodeResult({
    schema: 1,
    requestId,
    source: { topic: 'flood', partition: 0, offset: String(i) },
    user,
    model,
    latencyMs: 1,
    requestTimestamp: at,
    servedAt: new Date(at).toISOString(),
    outcome: 'scored',
    fallback: null,
    ranked,
    eventTime: at,
  } as RecommendationResult);
  const shadow = (kind: ShadowKind) =>
    encodeShadow({
      schema: 1,
      requestId,
      user,
      shadow: kind,
      servedBy: { slot: 'recommender', version: 1 },
      model: { slot: 'recommender', version: 1 },
      ranked,
      eventTime: at,
      producedAt: new Date(at).toISOString(),
    });
  const key = String(user);
  const shadows = [{ key, value: shadow('popularity') }];
  if (i % 10 === 0) shadows.push({ key, value: shadow('previous-model') });
  const purchase = encodePurchase({ user, products: [TOP[i % 10], 1000 + (i % 500)], timeMs: at + 1, id: `flood-p-${i}` });
  return { results: [{ key, value: result }], shadows, purchases: [{ key, value: purchase }] };
}

/** Records the evaluator has read (its records gauge: taken, late, duplicate and invalid, summed). */
async function readBy(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let n = 0;
  for (const m of text.matchAll(/^online_evaluator_records\{[^}]*\} (\d+)/gm)) n += Number(m[1]);
  return n;
}

/** Event time of flood request i: 86.4 ms apart, so that a day's window holds 1,000,000 requests (event time runs ahead of the clock). */
const floodTime = (i: number) => 1_800_000_000_000 + Math.round(i * 86.4);

/** Produces `rate` requests/s (with shadows and purchases) for `seconds` while the evaluator consumes; prints its lag every second. */
async function flood(rate: number, seconds: number, partitions: number): Promise<void> {
  const id = randomUUID().slice(0, 8);
  const cfg = loadConfig({
    ...process.env,
    ...benchTopics(id),
    EVALUATOR_WINDOW_MS: String(86_400_000),
    EVALUATOR_GRACE_MS: String(60_000),
  });
  const kafka = createKafka(cfg.kafka, '-bench');
  const topics = evaluatorTopics(cfg);
  await ensureTopics(kafka, topics, partitions);
  const evaluator = await startOnlineEvaluator({ config: cfg, port: 0, defaultMetrics: false, log: silentLog });
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  try {
    await evaluator.whenConsuming();
    await producer.connect();
    const start = performance.now();
    let sent = 0;
    let records = 0;
    const lags: number[] = [];
    let nextSample = 1;
    while (performance.now() - start < seconds * 1000) {
      const due = Math.floor(((performance.now() - start) / 1000) * rate);
      const batch: Record<TopicRole, Message[]> = { results: [], shadows: [], purchases: [] };
      for (; sent < due; sent++) {
        const r = floodRecords(sent, floodTime(sent));
        for (const role of TOPIC_ROLES) batch[role].push(...r[role]);
      }
      records += TOPIC_ROLES.reduce((n, role) => n + batch[role].length, 0);
      // a record batch at most ~1 MB (the broker's limit) when the loop has fallen behind
      for (const role of TOPIC_ROLES)
        for (let k = 0; k < batch[role].length; k += 1_000)
          await producer.send({ topic: topics[role], messages: batch[role].slice(k, k + 1_000) });
      if ((performance.now() - start) / 1000 >= nextSample) {
        lags.push(records - (await readBy(evaluator.url)));
        nextSample++;
      }
      await sleep(20);
    }
    const produced = (performance.now() - start) / 1000;
    // after the flood: how long until the evaluator has caught up
    const drainStart = performance.now();
    let lag = records - (await readBy(evaluator.url));
    while (lag > 0 && performance.now() - drainStart < 120_000) {
      await sleep(250);
      lag = records - (await readBy(evaluator.url));
    }
    const drained = (performance.now() - drainStart) / 1000;
    const joins = await evaluator
      .checkpoint()
      .then(() => readCheckpoints({ client: createMinioClient(cfg.minio), bucket: cfg.buckets.models, group: cfg.evaluator.groupId }));
    const followed = joins.reduce((n, c) => n + Object.values(c.state.figures).reduce((m, f) => m + f.followed, 0), 0);
    console.log(
      `flood: ${sent} requests in ${produced.toFixed(1)} s (${Math.round(sent / produced)} requests/s, ${Math.round(records / produced)} records/s over ${partitions} partitions of each topic)`,
    );
    console.log(`consumer lag (records produced, not yet read by the evaluator) every second: ${lags.join(' ')}`);
    const half = lags.slice(Math.floor(lags.length / 2));
    console.log(
      `lag: max ${Math.max(...lags)}, second half max ${Math.max(...half)}, last ${lags.at(-1)}; caught up ${drained.toFixed(1)} s after the flood (lag ${lag}); ${followed} followed purchases checkpointed`,
    );
    console.log(`peak RSS of this process (evaluator + producer): ${vmHwmMiB().toFixed(0)} MiB`);
  } finally {
    await producer.disconnect().catch(() => undefined);
    await evaluator.close();
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: Object.values(topics) }).catch(() => undefined);
    await admin.disconnect();
    const client = createMinioClient(cfg.minio);
    await removeKeys(client, cfg.buckets.models, await listKeys(client, cfg.buckets.models, onlineGroupPrefix(cfg.evaluator.groupId)));
  }
}

async function main(): Promise<void> {
  const flags = new Command()
    .option('--lines <n>', 'seed lines of traffic', integerArg(1, 62_000), 60_000)
    .option('--partitions <n>', 'partitions of each topic', integerArg(1, 64), 2)
    .option('--customers <n>', 'customers in the window of the memory run', integerArg(1, 10_000_000), 1_000_000)
    .option('--window-only <n>', '(internal: the child of the memory run)', integerArg(1, 10_000_000))
    .option('--flood <requests/s>', 'only the lag run, producing this many requests/s', integerArg(1, 100_000))
    .option('--flood-seconds <n>', 'how long the lag run produces', integerArg(1, 3_600), 60)
    .parse()
    .opts<{ lines: number; partitions: number; customers: number; windowOnly?: number; flood?: number; floodSeconds: number }>();
  if (flags.windowOnly) return windowState(flags.windowOnly);
  if (flags.flood) return flood(flags.flood, flags.floodSeconds, flags.partitions);
  await throughput(flags.lines, flags.partitions);
  const out = execFileSync(process.execPath, [...entryCommand('bench/evaluator.ts'), '--window-only', String(flags.customers)], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  const w = JSON.parse(out.trim().split('\n').at(-1)!) as {
    customers: number;
    before: number;
    statePeak: number;
    seconds: number;
    sizes: Record<string, number>;
    first: CheckpointFigures;
    next: CheckpointFigures;
    chunkedPeak: number;
    wholeMiB: number;
    wholeSeconds: number;
    wholePeak: number;
  };
  console.log(
    `window of ${w.customers} customers: peak RSS ${w.statePeak.toFixed(0)} MiB (child's RSS before: ${w.before.toFixed(0)} MiB; ${(((w.statePeak - w.before) * 1024 * 1024) / w.customers).toFixed(0)} bytes/customer), built in ${w.seconds.toFixed(1)} s; state ${JSON.stringify(w.sizes)}`,
  );
  const c = (f: CheckpointFigures) =>
    `${f.MiB.toFixed(1)} MiB in ${f.objects} objects, ${f.seconds.toFixed(2)} s (${f.chunks} chunks listed)`;
  console.log(
    `  checkpoint (head + state chunks, to MinIO): the first ${c(w.first)}; the next, after 5 s at 5,000 requests/s: ${c(w.next)}`,
  );
  console.log(`  peak RSS through both: ${w.chunkedPeak.toFixed(0)} MiB`);
  console.log(
    `  ANCHOR schema 1 (the whole state, every checkpoint): ${w.wholeMiB.toFixed(0)} MiB of JSON serialised in ${w.wholeSeconds.toFixed(2)} s (not written), peak RSS ${w.wholePeak.toFixed(0)} MiB`,
  );
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
