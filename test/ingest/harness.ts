/**
 * A private purchases topic, DLQ, consumer group and data prefix on the
 * shared stack, with the replay's source (lines of the seed's real
 * transactions.csv as purchase events, in line order), hostile events,
 * and the checks every exactly-once test makes.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Partitioners, type Kafka, type Message, type Producer } from 'kafkajs';
import { expect } from 'vitest';
import { loadConfig, type Config } from '../../src/config';
import { decodeDeadLetter, type DeadLetter } from '../../src/messaging/dead-letter';
import { createKafka, ensureTopics } from '../../src/messaging/kafka';
import { encodePurchase } from '../../src/messaging/schemas';
import { createMinioClient } from '../../src/storage/minio-client';
import { getObjectBuffer } from '../../src/storage/objects';
import { compactHistory } from '../../src/store/history-compaction';
import { historyKeys } from '../../src/store/layout';
import { chainEnd, listSegments, type SegmentStore } from '../../src/store/segments';
import { removePrefix } from '../helpers/minio';

export const SEED_LINES = fs.readFileSync(path.resolve(__dirname, '../../data/seed/transactions.csv'), 'utf8').trimEnd().split('\n');
export const LOG_DIR = path.resolve(__dirname, '../../artifacts/ingest');
const T0 = Date.UTC(2026, 0, 1);

export interface Sent {
  /** the replay's lines (history format) that must come out, in order */
  expectedLines: string[];
  /** key + value of every invalid record sent, as the dead letter embeds them (base64) */
  invalid: Map<string, string>;
  messages: Message[];
}

/**
 * The seed's data lines [from, to) as purchase events (id `line-<n>`, time
 * one second apart, keyed by customer), a duplicate re-send every
 * `dupEvery`, and an invalid record every `badEvery` (unique key per bad record).
 */
export function replayEvents(from: number, to: number, badEvery: number, dupEvery = 37): Sent {
  const messages: Message[] = [];
  const invalid = new Map<string, string>();
  const expectedLines: string[] = [];
  for (let n = from; n < to; n++) {
    const [user, products] = SEED_LINES[n].split(',');
    const value = encodePurchase({ user: Number(user), products: products.split('|').map(Number), timeMs: T0 + n * 1000, id: `line-${n}` });
    messages.push({ key: user, value });
    expectedLines.push(SEED_LINES[n]);
    if (n % dupEvery === 0) messages.push({ key: user, value }); // the producer's retry: same key, same id
    if (badEvery > 0 && n % badEvery === 0) {
      const bad = hostileEvent(invalid.size);
      invalid.set(bad.key as string, (bad.value as Buffer | null)?.toString('base64') ?? '');
      messages.push(bad);
    }
  }
  return { expectedLines, invalid, messages };
}

/** One invalid record of each kind in turn: the rejection code it must get. */
export const HOSTILE_CODES = [
  'negative-id',
  'id-too-large',
  'no-products',
  'bad-time',
  'bad-purchase-id',
  'undecodable',
  'empty-message',
] as const;

export function hostileEvent(i: number): Message {
  const key = `bad-${i}`;
  const good = { user: 1, products: [2], timeMs: T0, id: `bad-${i}` };
  const kind = HOSTILE_CODES[i % HOSTILE_CODES.length];
  const values: Record<(typeof HOSTILE_CODES)[number], () => Buffer | null> = {
    'negative-id': () => encodePurchase({ ...good, user: -1 - i }),
    'id-too-large': () => encodePurchase({ ...good, products: [0x100_0000 + i] }),
    'no-products': () => encodePurchase({ ...good, products: [] }),
    // times are checked against the record's Kafka timestamp (now): a year ahead is far in the future
    'bad-time': () => encodePurchase({ ...good, timeMs: Date.now() + 365 * 86_400_000 + i }),
    'bad-purchase-id': () => encodePurchase({ ...good, id: '', products: [i] }),
    undecodable: () => Buffer.from([0x0f, i >> 8, i & 0xff]),
    'empty-message': () => null,
  };
  return { key, value: values[kind]() };
}

export class IngestRig {
  readonly id = randomUUID().slice(0, 8);
  readonly env: NodeJS.ProcessEnv;
  readonly config: Config;
  readonly kafka: Kafka;
  readonly minio: ReturnType<typeof createMinioClient>;
  readonly store: SegmentStore;
  private producer?: Producer;

  constructor(extraEnv: NodeJS.ProcessEnv = {}) {
    this.env = {
      ...process.env,
      TOPIC_PURCHASES: `purchases-it-${this.id}`,
      TOPIC_PURCHASES_DLQ: `purchases-dlq-it-${this.id}`,
      PURCHASES_GROUP: `data-publisher-it-${this.id}`,
      DATA_PREFIX: `ingest-it-${this.id}`,
      SEGMENT_MAX_PURCHASES: '400',
      SEGMENT_MAX_AGE_MS: '300',
      DATA_PUBLISHER_SESSION_TIMEOUT_MS: '6000',
      ...extraEnv,
    };
    this.config = loadConfig(this.env);
    this.kafka = createKafka(this.config.kafka, `-it-${this.id}`);
    this.minio = createMinioClient(this.config.minio);
    this.store = {
      client: this.minio,
      bucket: this.config.buckets.data,
      dataPrefix: this.config.dataPrefix,
      topic: this.config.purchases.topic,
    };
  }

  async createTopics(partitions: number): Promise<void> {
    await ensureTopics(this.kafka, { purchases: this.config.purchases.topic, dlq: this.config.purchases.dlqTopic }, partitions);
  }

  /** Sends `messages` in order in chunks, `pauseMs` apart (one request in flight: per-partition order is send order). */
  async stream(messages: Message[], chunk: number, pauseMs: number): Promise<void> {
    this.producer ??= this.kafka.producer({ maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
    await this.producer.connect();
    for (let i = 0; i < messages.length; i += chunk) {
      await this.producer.send({ topic: this.config.purchases.topic, acks: -1, messages: messages.slice(i, i + chunk) });
      if (pauseMs) await sleep(pauseMs);
    }
  }

  /** Waits until every partition's segment chain reaches its high watermark. */
  async untilIngested(timeoutMs: number): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const offsets = await admin.fetchTopicOffsets(this.config.purchases.topic);
        const behind: string[] = [];
        for (const o of offsets) {
          const chain = await chainEnd(this.store, await listSegments(this.store, o.partition));
          if (chain < BigInt(o.high)) behind.push(`partition ${o.partition}: ${chain}/${o.high}`);
        }
        if (behind.length === 0) return;
        if (Date.now() > end) throw new Error(`not ingested within ${timeoutMs} ms: ${behind.join(', ')}`);
        await sleep(250);
      }
    } finally {
      await admin.disconnect();
    }
  }

  /** Writes the base, compacts, and returns the history's data lines after the base. */
  async compactedLines(baseLines: string[]): Promise<{ lines: string[]; bytes: Buffer }> {
    const baseKey = historyKeys(this.config.dataPrefix).transactions;
    const base = Buffer.from(`${baseLines.join('\n')}\n`);
    await this.minio.putObject(this.store.bucket, baseKey, base);
    const { manifest } = await compactHistory(this.store, baseKey, { reorderWindow: this.config.purchases.reorderWindow });
    const bytes = await getObjectBuffer(this.minio, this.store.bucket, manifest.historyKey);
    expect(bytes.subarray(0, base.length).equals(base)).toBe(true);
    return { lines: bytes.subarray(base.length).toString('utf8').trimEnd().split('\n'), bytes };
  }

  /** The dead letters on the private DLQ, one per source record (a re-sent letter of the same offset counted once). */
  async deadLetters(expected: number, timeoutMs = 30_000): Promise<Map<string, DeadLetter>> {
    const letters = new Map<string, DeadLetter>();
    const consumer = this.kafka.consumer({ groupId: `dlq-reader-${this.id}-${randomUUID().slice(0, 4)}` });
    await consumer.connect();
    await consumer.subscribe({ topic: this.config.purchases.dlqTopic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const letter = decodeDeadLetter(message.value as Buffer);
        letters.set(`${letter.source.partition}:${letter.source.offset}`, letter);
      },
    });
    const end = Date.now() + timeoutMs;
    while (letters.size < expected && Date.now() < end) await sleep(200);
    await sleep(500); // any extra letter would show now
    await consumer.disconnect();
    return letters;
  }

  /** Every dead letter is one invalid record sent, each invalid record has exactly one (by source offset). */
  async expectDeadLetters(invalid: Map<string, string>): Promise<void> {
    const letters = await this.deadLetters(invalid.size);
    const got = new Map([...letters.values()].map((l) => [Buffer.from(l.key ?? '', 'base64').toString(), l.value ?? '']));
    expect(letters.size).toBe(invalid.size);
    expect(got).toEqual(invalid);
    for (const l of letters.values()) expect(l.reason.length).toBeGreaterThan(0);
  }

  async cleanUp(): Promise<void> {
    await this.producer?.disconnect();
    await removePrefix(this.minio, this.store.bucket, `${this.config.dataPrefix}/`);
    const admin = this.kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [this.config.purchases.topic, this.config.purchases.dlqTopic] }).catch(() => undefined);
    await admin.disconnect();
  }
}
