/**
 * Ingestion benchmark (issue 22):
 *   1. purchases/s through the data publisher (src/ingest/main.ts, as deployed,
 *      exactly-once protocol on) beside the ANCHOR measured in the same run:
 *      a kafkajs consume → MinIO put relay doing nothing else
 *      (bench/minio-relay.ts), same topic, consumer settings and machine;
 *      each in a process of its own, timed from joining its group until every
 *      record is in MinIO, with its peak RSS (VmHWM) and the CPU seconds it used;
 *   2. compaction of --compact purchases (segments written directly) into a
 *      history after the seed's base: time and peak RSS, beside an anchor
 *      that copies the same segment bytes into one object unparsed.
 *
 *   npm run bench:ingest [-- --purchases 200000 --partitions 2 --compact 1000000]
 * Everything runs on private topics and prefixes, removed afterwards.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Command } from 'commander';
import { Partitioners, type Kafka } from 'kafkajs';
import { integerArg } from '../src/arg-parsers';
import { loadConfig } from '../src/config';
import { createKafka, ensureTopics } from '../src/messaging/kafka';
import { encodePurchase } from '../src/messaging/schemas';
import { spawnEntry, stopProcess, waitForLog, type Managed } from '../src/process/children';
import { createMinioClient } from '../src/storage/minio-client';
import { listKeys, removeKeys } from '../src/storage/objects';
import { compactHistory } from '../src/store/history-compaction';
import { chainEnd, formatSegmentLine, listSegments, SEGMENT_HEADER, writeSegment, type SegmentStore } from '../src/store/segments';

const SEED = readFileSync(path.join(__dirname, '..', 'data', 'seed', 'transactions.csv'), 'utf8')
  .trimEnd()
  .split('\n')
  .slice(1);
const LOG_DIR = path.join(os.tmpdir(), 'bench-ingest');
const cfg = loadConfig();
const minio = createMinioClient(cfg.minio);
const bucket = cfg.buckets.data;

function seedPurchase(i: number) {
  const [user, products] = SEED[i % SEED.length].split(',');
  return { user: Number(user), products: products.split('|').map(Number), timeMs: 1_700_000_000_000 + i, id: `b-${i}` };
}

function vmHwmMiB(pid: number | undefined): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid ?? 'self'}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function produce(kafka: Kafka, topic: string, n: number): Promise<void> {
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  for (let i = 0; i < n; i += 10_000) {
    const messages = [];
    for (let j = i; j < Math.min(n, i + 10_000); j++) {
      const p = seedPurchase(j);
      messages.push({ key: String(p.user), value: encodePurchase(p) });
    }
    await producer.send({ topic, acks: -1, messages });
  }
  await producer.disconnect();
}

/** CPU seconds (user + system) a process has used: /proc/<pid>/stat fields 14 and 15, in USER_HZ (100 on Linux). */
function cpuSeconds(pid: number | undefined): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * Runs a consumer process until `done()`; its rate from joining its group,
 * its peak RSS, and the CPU seconds it used meanwhile (the work itself, less
 * sensitive than the rate to other load on the machine).
 */
async function timed(p: Managed, ready: RegExp, n: number, done: () => Promise<boolean>) {
  await waitForLog(p, ready, 120_000);
  const cpu0 = cpuSeconds(p.child.pid);
  const t0 = performance.now();
  while (!(await done())) await sleep(100);
  const seconds = (performance.now() - t0) / 1000;
  const cpu = cpuSeconds(p.child.pid) - cpu0;
  const rss = vmHwmMiB(p.child.pid);
  await stopProcess(p, 10_000);
  return { rate: n / seconds, seconds, rss, cpu };
}

async function ingestRound(kafka: Kafka, id: string, topic: string, n: number) {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const high = await admin.fetchTopicOffsets(topic);
    const relayGroup = `relay-${id}`;
    const nodeArgs = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
    const relay = spawnEntry(
      `minio-relay-${id}`,
      'bench/minio-relay.ts',
      ['--topic', topic, '--group', relayGroup, '--prefix', `ingest-bench-${id}/relay`],
      LOG_DIR,
      { nodeArgs: nodeArgs.map((a) => a.replace(/^(--cpu-prof-dir=.*)$/, '$1/relay')) },
    );
    const anchor = await timed(relay, /relay consuming/, n, async () => {
      const [t] = await admin.fetchOffsets({ groupId: relayGroup, topics: [topic] });
      return t.partitions.every((p) => p.offset === high.find((h) => h.partition === p.partition)?.high);
    });
    const env = {
      SEGMENT_MAX_AGE_MS: '250', // the tail of the stream waits for the age limit: 250 ms, not 5 s
      ...process.env,
      TOPIC_PURCHASES: topic,
      TOPIC_PURCHASES_DLQ: `${topic}-dlq`,
      DATA_PREFIX: `ingest-bench-${id}`,
      PURCHASES_GROUP: `publisher-${id}`,
    };
    const store: SegmentStore = { client: minio, bucket, dataPrefix: env.DATA_PREFIX, topic };
    const pub = spawnEntry(`data-publisher-${id}`, 'src/ingest/main.ts', ['--port', '0'], LOG_DIR, { env, nodeArgs });
    const publisher = await timed(pub, /data publisher consuming/, n, async () => {
      for (const h of high) if ((await chainEnd(store, await listSegments(store, h.partition))) < BigInt(h.high)) return false;
      return true;
    });
    return { anchor, publisher };
  } finally {
    await admin.disconnect();
  }
}

/** Writes n purchases as segments of 20,000 over 4 partitions (times increasing), and the seed as the base. */
async function writeSegments(store: SegmentStore, n: number): Promise<void> {
  const partitions = 4;
  const per = Math.ceil(n / partitions);
  for (let p = 0; p < partitions; p++) {
    for (let first = 0; first < per; first += 20_000) {
      const lines: string[] = [SEGMENT_HEADER + '\n'];
      const last = Math.min(per, first + 20_000) - 1;
      for (let o = first; o <= last; o++) {
        const i = o * partitions + p;
        lines.push(formatSegmentLine({ ...seedPurchase(i), offset: BigInt(o) }));
      }
      await writeSegment(store, p, BigInt(first), BigInt(last), Buffer.from(lines.join('')));
    }
  }
  await minio.putObject(
    bucket,
    `${store.dataPrefix}/transactions.csv`,
    readFileSync(path.join(__dirname, '..', 'data', 'seed', 'transactions.csv')),
  );
}

/** Child mode: compacts (or, for the anchor, copies the segment bytes unparsed) and prints seconds and peak RSS. */
async function child(mode: 'compact' | 'copy', prefix: string, topic: string): Promise<void> {
  const store: SegmentStore = { client: minio, bucket, dataPrefix: prefix, topic };
  const t0 = performance.now();
  if (mode === 'compact') {
    await compactHistory(store, `${prefix}/transactions.csv`, { reorderWindow: cfg.purchases.reorderWindow });
  } else {
    const keys = (await listKeys(minio, bucket, `${prefix}/segments/`)).sort();
    const out = new PassThrough();
    const put = minio.putObject(bucket, `${prefix}/copy.csv`, out, 64 * 1024 ** 3);
    for (const key of keys)
      for await (const chunk of await minio.getObject(bucket, key)) if (!out.write(chunk)) await new Promise((r) => out.once('drain', r));
    out.end();
    await put;
  }
  console.log(JSON.stringify({ seconds: (performance.now() - t0) / 1000, rss: vmHwmMiB(undefined) }));
}

async function runChild(mode: 'compact' | 'copy', prefix: string, topic: string, id: string): Promise<{ seconds: number; rss: number }> {
  const p = spawnEntry(`ingest-${mode}-${id}`, 'bench/ingest.ts', ['--child', mode, '--prefix', prefix, '--topic', topic], LOG_DIR);
  await p.exited;
  const text = readFileSync(p.logFile, 'utf8').slice(p.logOffset);
  const line = text.split('\n').find((l) => l.startsWith('{"seconds"'));
  if (!line) throw new Error(`${mode} child failed; see ${p.logFile}`);
  return JSON.parse(line) as { seconds: number; rss: number };
}

async function cleanUp(kafka: Kafka, id: string, topic: string): Promise<void> {
  for (const prefix of [`ingest-bench-${id}`]) await removeKeys(minio, bucket, await listKeys(minio, bucket, prefix));
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [topic, `${topic}-dlq`] }).catch(() => undefined);
  await admin.disconnect();
}

const fmt = (x: number) => Math.round(x).toLocaleString('en-US');

async function main(): Promise<void> {
  const o = new Command()
    .option('--purchases <n>', 'purchases streamed through Kafka', integerArg(1000), 500_000)
    .option('--rounds <n>', 'rounds of anchor then publisher (medians are printed)', integerArg(1, 20), 3)
    .option('--partitions <n>', 'partitions of the purchases topic', integerArg(1, 64), 2)
    .option('--compact <n>', 'purchases compacted (0: skip)', integerArg(0), 1_000_000)
    .option('--child <mode>')
    .option('--prefix <p>')
    .option('--topic <t>')
    .parse()
    .opts<{
      purchases: number;
      rounds: number;
      partitions: number;
      compact: number;
      child?: 'compact' | 'copy';
      prefix?: string;
      topic?: string;
    }>();
  if (o.child) return child(o.child, o.prefix as string, o.topic as string);
  const id = randomUUID().slice(0, 8);
  const topic = `purchases-bench-${id}`;
  const kafka = createKafka(cfg.kafka, `-bench-${id}`);
  try {
    await ensureTopics(kafka, { topic }, o.partitions);
    await produce(kafka, topic, o.purchases);
    const rounds: Awaited<ReturnType<typeof ingestRound>>[] = [];
    for (let r = 0; r < o.rounds; r++) rounds.push(await ingestRound(kafka, `${id}-${r}`, topic, o.purchases));
    const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const pick = (k: 'anchor' | 'publisher') => ({
      rate: median(rounds.map((x) => x[k].rate)),
      seconds: median(rounds.map((x) => x[k].seconds)),
      rss: Math.max(...rounds.map((x) => x[k].rss)),
      cpu: median(rounds.map((x) => x[k].cpu)),
    });
    const anchor = pick('anchor');
    const publisher = pick('publisher');
    const ratio = median(rounds.map((x) => x.publisher.rate / x.anchor.rate));
    console.log(`rounds (publisher/anchor purchases/s): ${rounds.map((x) => `${fmt(x.publisher.rate)}/${fmt(x.anchor.rate)}`).join(', ')}`);
    console.log(
      `ingestion of ${fmt(o.purchases)} purchases, ${o.partitions} partitions, ${os.cpus().length} cores (medians of ${o.rounds} rounds; peak RSS: the largest):`,
    );
    console.log(
      `  anchor (consume → MinIO put relay): ${fmt(anchor.rate)}/s, ${anchor.seconds.toFixed(2)} s, CPU ${anchor.cpu.toFixed(2)} s, peak RSS ${fmt(anchor.rss)} MiB`,
    );
    console.log(
      `  data publisher (exactly once):      ${fmt(publisher.rate)}/s, ${publisher.seconds.toFixed(2)} s, CPU ${publisher.cpu.toFixed(2)} s, peak RSS ${fmt(publisher.rss)} MiB`,
    );
    const target = Math.max(0.5 * anchor.rate, 10_000);
    console.log(
      `  ratio ${ratio.toFixed(2)}× the anchor (median of the rounds' ratios); target ≥ max(0.5× anchor, 10,000/s) = ${fmt(target)}/s: ${publisher.rate >= target ? 'met' : 'NOT met'}`,
    );
    if (o.compact > 0) {
      const prefix = `ingest-bench-${id}-c`;
      await writeSegments({ client: minio, bucket, dataPrefix: prefix, topic }, o.compact);
      const copy = await runChild('copy', prefix, topic, id);
      const compact = await runChild('compact', prefix, topic, id);
      console.log(
        `compaction of ${fmt(o.compact)} purchases (4 partitions, segments of 20,000) after the seed's ${fmt(SEED.length)} lines:`,
      );
      console.log(`  anchor (copy of the segment bytes, unparsed): ${copy.seconds.toFixed(2)} s, peak RSS ${fmt(copy.rss)} MiB`);
      console.log(
        `  compaction:                                   ${compact.seconds.toFixed(2)} s, peak RSS ${fmt(compact.rss)} MiB (${(compact.seconds / copy.seconds).toFixed(2)}× the anchor's time)`,
      );
    }
  } finally {
    await cleanUp(kafka, id, topic);
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof Error ? err.stack : err);
    process.exit(1);
  },
);
