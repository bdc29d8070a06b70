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
 *      the child's RSS before, and the size and peak of one checkpoint body.
 *
 *   npm run bench:evaluator [-- --lines 60000 --partitions 2 --customers 1000000]
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
import { PartitionJoin, TOPIC_ROLES } from '../src/evaluation/join-state';
import { createKafka, ensureTopics } from '../src/messaging/kafka';
import { silentLog } from '../src/process/json-log';
import { entryCommand } from '../src/process/children';
import { createMinioClient } from '../src/storage/minio-client';
import { listKeys, removeKeys } from '../src/storage/objects';
import { onlineGroupPrefix } from '../src/store/layout';
import { readCheckpoints } from '../src/store/online-figures';
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

async function throughput(lines: number, partitions: number): Promise<void> {
  const id = randomUUID().slice(0, 8);
  const cfg = loadConfig({
    ...process.env,
    TOPIC_RESULTS: `bench-recommendations-${id}`,
    TOPIC_SHADOWS: `bench-shadows-${id}`,
    TOPIC_PURCHASES: `bench-purchases-${id}`,
    EVALUATOR_GROUP: `bench-evaluator-${id}`,
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

/** In the child: a window holding `customers` customers, each with a request, a shadow answer and a purchase. */
function windowState(customers: number): void {
  const before = rssMiB();
  const join = new PartitionJoin({ windowMs: 86_400_000, graceMs: 60_000, repeatHorizonMs: 30 * 86_400_000 });
  const t0 = 1_800_000_000_000;
  const top = [2, 20, 23, 29, 68, 86, 107, 111, 152, 164];
  const started = performance.now();
  for (let u = 0; u < customers; u++) {
    const at = t0 + Math.floor((u / customers) * 3_600_000); // an hour of traffic, inside the day's window
    const requestId = `mdata:0:${u}`;
    join.served({ requestId, user: u, eventTime: at, slot: 'recommender', version: 1, top });
    join.shadow({ requestId, shadow: 'popularity', eventTime: at, top });
    join.purchase({ id: `p-${u}`, user: u, eventTime: at + 1, products: [top[u % 10], 1000 + (u % 500)] });
  }
  const seconds = (performance.now() - started) / 1000;
  const sizes = join.sizes();
  const statePeak = vmHwmMiB();
  const body = Buffer.from(JSON.stringify(join.snapshot()));
  console.log(
    JSON.stringify({ customers, before, statePeak, checkpointPeak: vmHwmMiB(), checkpointMiB: body.length / 1024 / 1024, seconds, sizes }),
  );
}

async function main(): Promise<void> {
  const flags = new Command()
    .option('--lines <n>', 'seed lines of traffic', integerArg(1, 62_000), 60_000)
    .option('--partitions <n>', 'partitions of each topic', integerArg(1, 64), 2)
    .option('--customers <n>', 'customers in the window of the memory run', integerArg(1, 10_000_000), 1_000_000)
    .option('--window-only <n>', '(internal: the child of the memory run)', integerArg(1, 10_000_000))
    .parse()
    .opts<{ lines: number; partitions: number; customers: number; windowOnly?: number }>();
  if (flags.windowOnly) return windowState(flags.windowOnly);
  await throughput(flags.lines, flags.partitions);
  const out = execFileSync(process.execPath, [...entryCommand('bench/evaluator.ts'), '--window-only', String(flags.customers)], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  const w = JSON.parse(out.trim().split('\n').at(-1)!) as {
    customers: number;
    before: number;
    statePeak: number;
    checkpointPeak: number;
    checkpointMiB: number;
    seconds: number;
    sizes: Record<string, number>;
  };
  console.log(
    `window of ${w.customers} customers: peak RSS ${w.statePeak.toFixed(0)} MiB (child's RSS before: ${w.before.toFixed(0)} MiB; ${(((w.statePeak - w.before) * 1024 * 1024) / w.customers).toFixed(0)} bytes/customer), built in ${w.seconds.toFixed(1)} s; state ${JSON.stringify(w.sizes)}`,
  );
  console.log(
    `  one checkpoint of it: ${w.checkpointMiB.toFixed(0)} MiB of JSON, peak RSS while serialising ${w.checkpointPeak.toFixed(0)} MiB`,
  );
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
