/**
 * Replays a real purchase history as a live stream (issue 22): the first
 * `--start` data lines of a transactions file become the starting history
 * (the base `transactions.csv` in MinIO), and every later line, in line
 * order, becomes a recommendation request for its customer (the visit that
 * precedes the purchase: the top VISIT_TOP of the serving model's whole
 * catalogue, docs/serving.md) and
 * then the Purchase itself (id `replay-<line>`, event times one `--step-ms`
 * apart ending now), at `--rate` purchases a second (0: as fast as Kafka takes them).
 *
 *   npm run replay -- [--file data/seed/transactions.csv] [--start 0.5] [--rate 50] [--step-ms 60000] [--replace]
 *                     [--history-only | --stream-only]   (the two halves apart: train between them)
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Command, Option } from 'commander';
import { Partitioners, type Message, type RecordMetadata } from 'kafkajs';
import { loadConfig, type Config } from '../config';
import { createKafka, ensureTopics } from '../messaging/kafka';
import { decodeRequest, encodePurchase, encodeRequest } from '../messaging/schemas';
import { requestId } from '../messaging/request-id';
import { parseTransaction, TRANSACTIONS_HEADER } from '../ml/dataset/read-transactions';
import { createMinioClient } from '../storage/minio-client';
import { objectExists } from '../storage/objects';
import { historyKeys } from '../store/layout';
import { integerArg } from '../arg-parsers';
import { writeBaseHistory } from '../store/history';
import { partitionCount, type SentRequest } from './request-client';

export interface ReplayOptions {
  file: string;
  /** data lines of the starting history: a count, or a fraction of the file's lines when below 1 */
  start: number;
  /** purchases a second; 0: unpaced */
  rate: number;
  stepMs: number;
  /** overwrite an existing base history */
  replace: boolean;
  now?: number;
}

export interface ReplayResult {
  baseLines: number;
  purchases: number;
  requests: number;
}

export interface Line {
  user: number;
  products: number[];
}

async function readLines(file: string): Promise<Line[]> {
  const text = (await readFile(file, 'utf8')).replace(/\r/g, '');
  const rows = text.split('\n').filter((l) => l.trim() !== '');
  if (rows[0]?.trim().toLowerCase() !== TRANSACTIONS_HEADER.toLowerCase())
    throw new Error(`${file}: line 1: expected header ${TRANSACTIONS_HEADER}`);
  return rows.slice(1).map((row, i) => {
    const basket: number[] = [];
    const user = parseTransaction(row, 0xff_ffff, 0xff_ffff, basket);
    if (typeof user === 'string') throw new Error(`${file}: data line ${i + 1}: ${user}`);
    return { user, products: [...basket] };
  });
}

/** Products a replayed visit asks for: the online HR@10 counts hits in the top 10. */
export const VISIT_TOP = 10;

/** The stream: before each purchase, the request of its customer's visit. */
function streamMessages(lines: Line[], from: number, opts: ReplayOptions, cfg: Config) {
  const end = opts.now ?? Date.now();
  return lines.slice(from).map((l, i) => {
    const n = from + i;
    const timeMs = end - (lines.length - 1 - n) * opts.stepMs;
    const key = String(l.user);
    // the visit's event time, 1 ms before its purchase (the online evaluator joins in event time)
    const request: Message = { key, value: encodeRequest({ user: l.user, products: [], top: VISIT_TOP, timeMs: timeMs - 1 }) };
    const purchase: Message = { key, value: encodePurchase({ user: l.user, products: l.products, timeMs, id: `replay-${n + 1}` }) };
    return [
      { topic: cfg.topics.requests, message: request },
      { topic: cfg.purchases.topic, message: purchase },
    ];
  });
}

/** The starting history in MinIO and what the stream needs of the file. */
export interface StartingHistory {
  lines: Line[];
  baseLines: number;
}

/** Writes the file's first part as the base history (refusing to overwrite one without `replace`). */
/** The file's lines and how many of them are the starting history. */
async function splitFile(opts: Pick<ReplayOptions, 'file' | 'start'>): Promise<StartingHistory> {
  if (!(opts.start >= 0)) throw new Error(`--start must be a line count or a fraction, got ${opts.start}`);
  const lines = await readLines(opts.file);
  return { lines, baseLines: opts.start < 1 ? Math.floor(lines.length * opts.start) : Math.min(lines.length, opts.start) };
}

export async function publishStartingHistory(
  cfg: Config,
  opts: Pick<ReplayOptions, 'file' | 'start' | 'replace'>,
): Promise<StartingHistory> {
  const { lines, baseLines } = await splitFile(opts);
  const minio = createMinioClient(cfg.minio);
  const baseKey = historyKeys(cfg.dataPrefix).transactions;
  if (!opts.replace && (await objectExists(minio, cfg.buckets.data, baseKey))) {
    throw new Error(`${cfg.buckets.data}/${baseKey} exists: the replay starts a history (--replace to overwrite it)`);
  }
  const base = [TRANSACTIONS_HEADER, ...lines.slice(0, baseLines).map((l) => `${l.user},${l.products.join('|')}`)].join('\n') + '\n';
  await writeBaseHistory(minio, cfg.buckets.data, historyKeys(cfg.dataPrefix), { transactions: Buffer.from(base) });
  return { lines, baseLines };
}

/** For a caller that follows the answers (the demo): stop early, and learn each request's id. */
export interface StreamHooks {
  signal?: AbortSignal;
  onRequests?: (sent: SentRequest[]) => void;
}

/**
 * Requests go to partition `user mod partitions` (as the request client's), so
 * that each one's id (topic:partition:offset) follows from the producer's answer.
 */
function placeRequests(part: Message[], partitions: number): Message[] {
  return part.map((m) => ({ ...m, partition: Number(m.key) % partitions }));
}

function sentRequests(topic: string, placed: Message[], meta: RecordMetadata[], sentAt: number): SentRequest[] {
  const next = new Map(meta.map((m) => [m.partition, BigInt(m.baseOffset ?? '-1')]));
  return placed.map((m) => {
    const partition = m.partition as number;
    const offset = next.get(partition) ?? -1n;
    if (offset < 0n) throw new Error(`the broker reported no offset for partition ${partition} of ${topic}`);
    next.set(partition, offset + 1n);
    const request = decodeRequest(m.value as Buffer);
    return { request, partition, offset: offset.toString(), requestId: requestId({ topic, partition, offset: offset.toString() }), sentAt };
  });
}

/** Streams the lines after the starting history: each purchase after its customer's visit. */
export async function streamPurchases(
  cfg: Config,
  start: StartingHistory,
  opts: ReplayOptions,
  hooks: StreamHooks = {},
): Promise<ReplayResult> {
  const kafka = createKafka(cfg.kafka, '-replay');
  await ensureTopics(kafka, { requests: cfg.topics.requests, purchases: cfg.purchases.topic });
  const partitions = await partitionCount(kafka, cfg.topics.requests);
  const producer = kafka.producer({ maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  let sent = 0;
  try {
    const pairs = streamMessages(start.lines, start.baseLines, opts, cfg);
    const chunk = opts.rate > 0 ? Math.max(1, Math.ceil(opts.rate / 10)) : 500;
    for (let i = 0; i < pairs.length && !hooks.signal?.aborted; i += chunk) {
      const t0 = Date.now();
      const part = pairs.slice(i, i + chunk);
      // the chunk's requests are written before its purchases: each visit precedes its purchase
      const requests = placeRequests(
        part.map(([request]) => request.message),
        partitions,
      );
      const meta = await producer.send({ topic: cfg.topics.requests, acks: -1, messages: requests });
      hooks.onRequests?.(sentRequests(cfg.topics.requests, requests, meta, t0));
      await producer.send({ topic: cfg.purchases.topic, acks: -1, messages: part.map(([, purchase]) => purchase.message) });
      sent += part.length;
      if (opts.rate > 0)
        await sleep(Math.max(0, (chunk / opts.rate) * 1000 - (Date.now() - t0)), undefined, { signal: hooks.signal }).catch(
          () => undefined,
        );
    }
    return { baseLines: start.baseLines, purchases: sent, requests: sent };
  } finally {
    await producer.disconnect();
  }
}

export async function replay(cfg: Config, opts: ReplayOptions & { historyOnly?: boolean; streamOnly?: boolean }): Promise<ReplayResult> {
  if (opts.historyOnly && opts.streamOnly) throw new Error('--history-only and --stream-only exclude each other');
  // --stream-only: the starting history was published before (--history-only), and a model trained on it
  const start = opts.streamOnly ? await splitFile(opts) : await publishStartingHistory(cfg, opts);
  if (opts.historyOnly) return { baseLines: start.baseLines, purchases: 0, requests: 0 };
  return streamPurchases(cfg, start, opts);
}

async function main(): Promise<void> {
  const o = new Command()
    .name('replay')
    .description(
      'Publishes the first part of a transactions file as the starting history and streams the rest as purchases, each after a recommendation request',
    )
    .addOption(
      new Option('--file <path>', 'transactions file (customerId,products)').default(
        path.join(__dirname, '..', '..', 'data', 'seed', 'transactions.csv'),
      ),
    )
    .addOption(
      new Option('--start <n>', 'data lines of the starting history, or a fraction of them when below 1').default(0.5).argParser(Number),
    )
    .addOption(new Option('--rate <n>', 'purchases a second (0: as fast as possible)').default(50).argParser(integerArg(0)))
    .addOption(new Option('--step-ms <ms>', 'event time between two purchases').default(60_000).argParser(integerArg(1)))
    .option('--replace', 'overwrite an existing starting history', false)
    .option('--history-only', 'publish the starting history and stop (train on it, then replay with --stream-only)', false)
    .option('--stream-only', 'stream the rest only: the starting history was published before', false)
    .parse()
    .opts<ReplayOptions & { historyOnly: boolean; streamOnly: boolean }>();
  const result = await replay(loadConfig(), o);
  const history = o.streamOnly ? `after the starting history's ${result.baseLines} lines` : `starting history: ${result.baseLines} lines`;
  console.log(o.historyOnly ? history : `${history}; streamed ${result.purchases} purchases, each after a recommendation request`);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
