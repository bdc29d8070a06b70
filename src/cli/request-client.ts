/**
 * The request client (the seed's load generator): publishes random
 * recommendation requests to `mdata` — a user among N (default 1000) and
 * 1–30 distinct products among M (default 300) — at a fixed rate (default
 * one a second) or as fast as possible (`--rate 0`).
 *
 *   tsx src/cli/request-client.ts [--rate 1] [--count 100] [--seed 7]
 *
 * `sendRequests` is the same generator for tests, benchmarks and the demo;
 * it reports each request's partition and offset, i.e. the `requestId` the
 * model server puts on its result.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Presets, SingleBar } from 'cli-progress';
import { Command, Option } from 'commander';
import { Partitioners, type Kafka, type Message, type Producer } from 'kafkajs';
import { loadConfig } from '../config';
import { createKafka } from '../messaging/kafka';
import { encodeRequest, type RecommendationRequest } from '../messaging/schemas';
import { Random } from '../ml/random';
import { requestId } from '../messaging/request-id';
import { integerArg, numberArg } from '../arg-parsers';
import { formatDuration } from './format';
import { percentile, ResultsTracker, type Answer, type TrackerStats } from './results-tracker';

export interface RequestShape {
  /** users are drawn from 0..users-1 */
  users: number;
  /** products are drawn from 0..products-1 */
  products: number;
  /** each request lists 1..maxProductsPerRequest distinct products (at most `products`) */
  maxProductsPerRequest: number;
}

export const DEFAULT_SHAPE: RequestShape = { users: 1000, products: 300, maxProductsPerRequest: 30 };

/** One random request: uniform user, uniform count, distinct products (Floyd's sampling, no full shuffle). */
export function randomRequest(rng: Random, shape: RequestShape): RecommendationRequest {
  const k = 1 + rng.int(Math.min(shape.maxProductsPerRequest, shape.products));
  const chosen = new Set<number>();
  for (let j = shape.products - k; j < shape.products; j++) {
    const t = rng.int(j + 1);
    chosen.add(chosen.has(t) ? j : t);
  }
  return { user: rng.int(shape.users), products: rng.shuffle([...chosen]) };
}

export interface SentRequest {
  request: RecommendationRequest;
  partition: number;
  offset: string;
  /** `<topic>:<partition>:<offset>`, as on the model server's result */
  requestId: string;
  /** when the producer call began, epoch ms with sub-millisecond precision */
  sentAt: number;
}

export interface SendRequestsOptions {
  kafka: Kafka;
  topic: string;
  /** how many to send; default: until `signal` aborts */
  count?: number;
  /** requests per second; 0 = as fast as possible; default 1 */
  rate?: number;
  shape?: Partial<RequestShape>;
  /** seed of the generator; default: random */
  seed?: number;
  /** most requests per producer call; default 500 */
  batchSize?: number;
  signal?: AbortSignal;
  /** called after each producer call with what it sent */
  onSent?: (sent: SentRequest[]) => void;
  /** an already connected producer to use (left connected) */
  producer?: Producer;
}

export interface SendSummary {
  sent: number;
  seconds: number;
  perSecond: number;
  /** offsets written per partition: first and last */
  partitions: { partition: number; first: string; last: string }[];
}

const epochNow = (): number => performance.timeOrigin + performance.now();

/** The topic's partitions (creating it with one when missing). */
export async function partitionCount(kafka: Kafka, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    if (!(await admin.listTopics()).includes(topic)) {
      await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    }
    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    return Math.max(1, meta.topics[0]?.partitions.length ?? 1);
  } finally {
    await admin.disconnect();
  }
}

/**
 * Publishes random requests and resolves with a summary once `count` are
 * written (acks from all in-sync replicas) or `signal` aborts. Requests are
 * keyed by user and go to partition `user mod partitions`, so that each
 * request's offset is known from the producer's answer.
 */
export async function sendRequests(options: SendRequestsOptions): Promise<SendSummary> {
  const rate = options.rate ?? 1;
  const count = options.count ?? Number.POSITIVE_INFINITY;
  const batchSize = options.batchSize ?? 500;
  if (!(rate >= 0) || !Number.isFinite(rate)) throw new RangeError(`rate must be a finite number ≥ 0, got ${rate}`);
  if (!(count >= 0)) throw new RangeError(`count must be ≥ 0, got ${count}`);
  const shape: RequestShape = { ...DEFAULT_SHAPE, ...options.shape };
  for (const [k, v] of Object.entries(shape)) {
    if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`${k} must be a positive integer, got ${v}`);
  }
  const rng = new Random(options.seed ?? Math.floor(Math.random() * 2 ** 32));
  const partitions = await partitionCount(options.kafka, options.topic);
  const producer =
    options.producer ?? options.kafka.producer({ maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
  if (!options.producer) await producer.connect();

  const seen = new Map<number, { first: string; last: string }>();
  let sent = 0;
  const started = epochNow();
  try {
    while (sent < count && !options.signal?.aborted) {
      let due = batchSize;
      if (rate > 0) {
        // Paced against the start time, not the previous send: no drift over long runs.
        const next = started + (sent / rate) * 1000;
        const wait = next - epochNow();
        if (wait > 0) {
          // an abort ends the wait early; the loop condition then stops sending
          await sleep(wait, undefined, { signal: options.signal }).catch(() => undefined);
          continue;
        }
        due = Math.min(batchSize, Math.floor(((epochNow() - started) / 1000) * rate) + 1 - sent);
      }
      due = Math.max(1, Math.min(due, count - sent));
      const requests = Array.from({ length: due }, () => randomRequest(rng, shape));
      const messages: Message[] = requests.map((r) => ({ key: String(r.user), value: encodeRequest(r), partition: r.user % partitions }));
      const sentAt = epochNow();
      const meta = await producer.send({ topic: options.topic, acks: -1, messages });
      const base = new Map(meta.map((m) => [m.partition, BigInt(m.baseOffset ?? '-1')]));
      const next = new Map<number, bigint>();
      const records = requests.map((request, i): SentRequest => {
        const partition = messages[i].partition as number;
        const offset = next.get(partition) ?? base.get(partition);
        if (offset === undefined || offset < 0n) throw new Error(`the broker reported no offset for partition ${partition}`);
        next.set(partition, offset + 1n);
        const source = { topic: options.topic, partition, offset: offset.toString() };
        return { request, partition, offset: source.offset, requestId: requestId(source), sentAt };
      });
      for (const r of records) {
        const s = seen.get(r.partition);
        if (s) s.last = r.offset;
        else seen.set(r.partition, { first: r.offset, last: r.offset });
      }
      sent += records.length;
      options.onSent?.(records);
    }
  } finally {
    if (!options.producer) await producer.disconnect();
  }
  const seconds = (epochNow() - started) / 1000;
  return {
    sent,
    seconds,
    perSecond: seconds > 0 ? sent / seconds : 0,
    partitions: [...seen.entries()].sort((a, b) => a[0] - b[0]).map(([partition, o]) => ({ partition, ...o })),
  };
}

interface Flags {
  users: number;
  products: number;
  maxProducts: number;
  rate: number;
  count?: number;
  seed?: number;
  topic?: string;
  followResults: boolean;
  wait: number;
}

const ms = (x: number): string => (Number.isFinite(x) ? `${x.toFixed(1)} ms` : '–');

function describeAnswer(a: Answer): string {
  const r = a.result;
  const model = `${r.model.slot ?? r.model.name}/${r.model.version ?? '?'}`;
  const took = ms(a.receivedAt - a.sentAt);
  if (r.outcome === 'error') return `${r.requestId} user ${r.user}: error from ${model} after ${took}: ${r.error}`;
  const top = r.ranked
    .slice(0, 5)
    .map((p) => p.product)
    .join(', ');
  const how = r.outcome === 'fallback' ? `popularity fallback (${r.reason})` : `scored by ${model}`;
  return `${r.requestId} user ${r.user}: ${how} in ${took}; top ${top}`;
}

/** The closing report of --follow-results: latency over every answer, not a window. */
function answersReport(tracker: ResultsTracker, s: TrackerStats): string {
  const latencies = tracker
    .all()
    .map((a) => a.receivedAt - a.sentAt)
    .sort((a, b) => a - b);
  const models = Object.entries(s.byModel)
    .map(([m, n]) => `${m} ${n}`)
    .join(', ');
  return [
    `answers: ${s.answered} of ${s.sent} answered, ${s.pending} unanswered, ${s.fallbacks} popularity fallbacks, ${s.errors} errors, ${s.deadLetters} dead letters, ${s.duplicates} duplicates`,
    `latency (send → result): p50 ${ms(percentile(latencies, 50))}, p99 ${ms(percentile(latencies, 99))}, max ${ms(latencies.at(-1) ?? Number.NaN)}`,
    `by model: ${models || 'none'}`,
  ].join('\n');
}

/** The command line's flags, checked. */
function parseFlags(): Flags {
  return new Command()
    .name('request-client')
    .description('Publishes random recommendation requests to the requests topic (mdata)')
    .addOption(new Option('--users <n>', 'users drawn from 0..n-1').default(DEFAULT_SHAPE.users).argParser(integerArg(1)))
    .addOption(new Option('--products <n>', 'products drawn from 0..n-1').default(DEFAULT_SHAPE.products).argParser(integerArg(1)))
    .addOption(
      new Option('--max-products <n>', 'at most n distinct products per request')
        .default(DEFAULT_SHAPE.maxProductsPerRequest)
        .argParser(integerArg(1)),
    )
    .addOption(new Option('--rate <perSecond>', 'requests per second; 0 = as fast as possible').default(1).argParser(numberArg(0)))
    .addOption(new Option('--count <n>', 'stop after n requests (default: until Ctrl-C)').argParser(integerArg(1)))
    .addOption(new Option('--seed <n>', 'seed of the generator (default: random)').argParser(integerArg(0)))
    .addOption(new Option('--topic <name>', 'requests topic (default: TOPIC_REQUESTS, mdata)'))
    .addOption(
      new Option('--follow-results', 'watch the results (and dead-letter) topics and report the answers to these requests').default(false),
    )
    .addOption(
      new Option('--wait <seconds>', 'with --follow-results: how long to wait for the last answers after sending')
        .default(10)
        .argParser(numberArg(0)),
    )
    .parse()
    .opts<Flags>();
}

async function main(): Promise<void> {
  const flags = parseFlags();

  const cfg = loadConfig();
  const topic = flags.topic ?? cfg.topics.requests;
  const kafka = createKafka(cfg.kafka, '-request-client');
  const stop = new AbortController();
  process.once('SIGINT', () => stop.abort());
  process.once('SIGTERM', () => stop.abort());

  const bar =
    flags.count !== undefined && process.stderr.isTTY
      ? new SingleBar(
          { format: 'requests [{bar}] {value}/{total} {percentage}% | {rate}/s | eta {eta_formatted}', hideCursor: true },
          Presets.shades_classic,
        )
      : undefined;
  const verbose = bar === undefined && flags.rate > 0 && flags.rate <= 10;
  let lastStatus = Date.now();
  let total = 0;
  const t0 = Date.now();
  const tracker = flags.followResults ? new ResultsTracker(kafka, cfg.topics.results, cfg.topics.dlq) : undefined;
  if (tracker) {
    await tracker.start();
    if (verbose) tracker.onAnswer((a) => console.log(`  answer ${describeAnswer(a)}`));
  }
  bar?.start(flags.count ?? 0, 0, { rate: '0' });
  console.error(`publishing to ${topic} on ${cfg.kafka.brokers.join(',')} at ${flags.rate === 0 ? 'full speed' : `${flags.rate}/s`}`);

  const summary = await sendRequests({
    kafka,
    topic,
    count: flags.count,
    rate: flags.rate,
    seed: flags.seed,
    shape: { users: flags.users, products: flags.products, maxProductsPerRequest: flags.maxProducts },
    signal: stop.signal,
    onSent: (sent) => {
      tracker?.expect(sent);
      total += sent.length;
      if (bar) bar.update(total, { rate: (total / Math.max((Date.now() - t0) / 1000, 0.001)).toFixed(0) });
      else if (verbose) for (const s of sent) console.log(`${s.requestId} user ${s.request.user} products ${s.request.products.join(',')}`);
      else if (Date.now() - lastStatus >= 5000) {
        lastStatus = Date.now();
        const s = tracker?.stats();
        console.log(
          `${total} requests sent` +
            (s ? `, ${s.answered} answered (${s.window.perSecond.toFixed(0)}/s, p99 ${ms(s.window.p99)} over ${s.window.seconds} s)` : ''),
        );
      }
    },
  }).finally(() => bar?.stop());

  console.log(
    `sent ${summary.sent} requests in ${summary.seconds.toFixed(1)} s (${summary.perSecond.toFixed(1)}/s) to ${topic}` +
      summary.partitions.map((p) => `; partition ${p.partition} offsets ${p.first}..${p.last}`).join(''),
  );
  if (tracker) {
    const waitMs = flags.wait * 1000;
    if (tracker.unanswered().length > 0) console.error(`waiting up to ${formatDuration(waitMs)} for the last answers`);
    await tracker.drain(waitMs).catch(() => undefined); // what is still missing is reported below
    await tracker.stop();
    const s = tracker.stats();
    console.log(answersReport(tracker, s));
    // unanswered or failed requests make the command fail, so scripts can rely on it
    if (s.pending > 0 || s.errors > 0) process.exitCode = 2;
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
