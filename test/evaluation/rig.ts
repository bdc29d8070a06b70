/**
 * A private results, shadow and purchases topic, evaluator group and
 * checkpoint prefix on the shared stack; the traffic streamed onto them in
 * an interleaving of its own; the topics read back (every partition, in
 * offset order) for the batch function; and the wait for an evaluator
 * group to have checkpointed everything.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Partitioners, type Kafka, type Message, type Producer } from 'kafkajs';
import { loadConfig, type Config } from '../../src/config';
import { batchFigures, type BatchFigures, type PartitionRecords } from '../../src/evaluation/batch';
import { evaluatorTopics } from '../../src/evaluation/evaluator';
import { TOPIC_ROLES, type TopicRole } from '../../src/evaluation/join-state';
import { decodeBasket, decodeServed, decodeShadowAnswers } from '../../src/evaluation/records';
import { customerPartition } from '../../src/messaging/customer-partition';
import { encodeShadowBatch, type ShadowBatch } from '../../src/messaging/shadow-result';
import { createKafka, ensureTopics } from '../../src/messaging/kafka';
import { createMinioClient } from '../../src/storage/minio-client';
import { onlineGroupPrefix } from '../../src/store/layout';
import { readCheckpoints, type OnlineStore } from '../../src/store/online-figures';
import { removePrefix } from '../helpers/minio';
import type { Traffic } from './traffic';

export const WINDOW_ENV = {
  EVALUATOR_WINDOW_MS: String(30 * 60_000),
  EVALUATOR_GRACE_MS: String(5 * 60_000),
  EVALUATOR_REPEAT_HORIZON_MS: String(7 * 86_400_000),
};

type Received = Record<TopicRole, { partition: number; offset: number; value: Buffer | null }[]>;

export class EvaluatorRig {
  readonly id = randomUUID().slice(0, 8);
  readonly env: NodeJS.ProcessEnv;
  readonly config: Config;
  readonly kafka: Kafka;
  readonly topics: Record<TopicRole, string>;
  private producer?: Producer;

  constructor(extraEnv: NodeJS.ProcessEnv = {}) {
    this.env = {
      ...process.env,
      TOPIC_RESULTS: `recommendations-it-${this.id}`,
      TOPIC_SHADOWS: `recommendations-shadow-it-${this.id}`,
      TOPIC_PURCHASES: `purchases-it-${this.id}`,
      EVALUATOR_GROUP: `online-evaluator-it-${this.id}`,
      EVALUATOR_CHECKPOINT_MS: '500',
      EVALUATOR_SESSION_TIMEOUT_MS: '6000',
      ...WINDOW_ENV,
      ...extraEnv,
    };
    this.config = loadConfig(this.env);
    this.kafka = createKafka(this.config.kafka, `-it-${this.id}`);
    this.topics = evaluatorTopics(this.config);
  }

  store(group = this.config.evaluator.groupId): OnlineStore {
    return { client: createMinioClient(this.config.minio), bucket: this.config.buckets.models, group };
  }

  async createTopics(partitions: number): Promise<void> {
    await ensureTopics(this.kafka, this.topics, partitions);
  }

  /**
   * Sends each topic's messages in order, the three topics interleaved in
   * random chunks (purchases often ahead of the results they follow), one
   * request in flight: per-partition order is send order.
   */
  async stream(traffic: Traffic, chunk: number, pauseMs: number): Promise<void> {
    this.producer ??= this.kafka.producer({ maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
    await this.producer.connect();
    const at: Record<TopicRole, number> = { results: 0, shadows: 0, purchases: 0 };
    for (;;) {
      const open = TOPIC_ROLES.filter((r) => at[r] < traffic[r].length);
      if (open.length === 0) return;
      const role = open[Math.floor(Math.random() * open.length)];
      const n = 1 + Math.floor(Math.random() * chunk);
      const messages: Message[] = traffic[role].slice(at[role], at[role] + n);
      at[role] += messages.length;
      await this.producer.send({ topic: this.topics[role], acks: -1, messages });
      if (pauseMs) await sleep(pauseMs);
    }
  }

  async send(role: TopicRole, messages: Message[]): Promise<void> {
    this.producer ??= this.kafka.producer({ maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
    await this.producer.connect();
    await this.producer.send({ topic: this.topics[role], acks: -1, messages });
  }

  async highWatermarks(): Promise<Record<TopicRole, Map<number, bigint>>> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const marks = {} as Record<TopicRole, Map<number, bigint>>;
      for (const role of TOPIC_ROLES)
        marks[role] = new Map((await admin.fetchTopicOffsets(this.topics[role])).map((o) => [o.partition, BigInt(o.high)]));
      return marks;
    } finally {
      await admin.disconnect();
    }
  }

  /** Waits until the group's checkpoints reach every topic-partition's high watermark. */
  async untilCheckpointed(group: string, timeoutMs: number): Promise<void> {
    const marks = await this.highWatermarks();
    const end = Date.now() + timeoutMs;
    for (;;) {
      const checkpoints = new Map((await readCheckpoints(this.store(group))).map((c) => [c.partition, c]));
      const behind: string[] = [];
      for (const role of TOPIC_ROLES)
        for (const [partition, high] of marks[role]) {
          const at = BigInt(checkpoints.get(partition)?.offsets[role] ?? '0');
          if (at < high) behind.push(`${role} ${partition}: ${at}/${high}`);
        }
      if (behind.length === 0) return;
      if (Date.now() > end) throw new Error(`group ${group} not checkpointed within ${timeoutMs} ms: ${behind.join(', ')}`);
      await sleep(250);
    }
  }

  /** Every record of the three topics, read back with a plain consumer. */
  async readBack(): Promise<Received> {
    const marks = await this.highWatermarks();
    const total = TOPIC_ROLES.reduce((n, r) => n + [...marks[r].values()].reduce((a, b) => a + Number(b), 0), 0);
    const got: Received = { results: [], shadows: [], purchases: [] };
    const roleOf = new Map(TOPIC_ROLES.map((r) => [this.topics[r], r]));
    const consumer = this.kafka.consumer({ groupId: `read-back-${this.id}-${randomUUID().slice(0, 4)}` });
    await consumer.connect();
    await consumer.subscribe({ topics: Object.values(this.topics), fromBeginning: true });
    let n = 0;
    await consumer.run({
      eachMessage: async ({ topic, partition, message }) => {
        got[roleOf.get(topic)!].push({ partition, offset: Number(message.offset), value: message.value });
        n++;
      },
    });
    const end = Date.now() + 60_000;
    while (n < total && Date.now() < end) await sleep(200);
    await consumer.disconnect();
    if (n !== total) throw new Error(`read back ${n} of ${total} records`);
    return got;
  }

  /**
   * The batch function over what the topics hold (undecodable records and
   * batch entries skipped, as the evaluator must; a shadow batch record's
   * entries in array order, as consecutive records); `extra` adds records to
   * each partition's.
   */
  async batch(extra?: (p: PartitionRecords) => void): Promise<BatchFigures & { invalid: Record<TopicRole, number> }> {
    const got = await this.readBack();
    const count = (await this.highWatermarks()).shadows.size;
    const partitions = new Map<number, PartitionRecords>();
    const invalid = { results: 0, shadows: 0, purchases: 0 };
    for (const role of TOPIC_ROLES) {
      for (const r of got[role].sort((a, b) => a.offset - b.offset)) {
        const p = partitions.get(r.partition) ?? { results: [], shadows: [], purchases: [] };
        partitions.set(r.partition, p);
        const value = r.value ?? Buffer.alloc(0);
        try {
          if (role === 'results') p.results.push(decodeServed(value));
          else if (role === 'purchases') p.purchases.push(decodeBasket(value));
          else {
            const decoded = decodeShadowAnswers(value, { partition: r.partition, partitions: count, offset: String(r.offset) });
            p.shadows.push(...decoded.answers);
            invalid.shadows += decoded.invalid.length;
          }
        } catch {
          invalid[role]++;
        }
      }
    }
    if (extra) for (const p of partitions.values()) extra(p);
    return { ...batchFigures([...partitions.values()], this.config.evaluator), invalid };
  }

  async cleanUp(groups: string[] = [this.config.evaluator.groupId]): Promise<void> {
    await this.producer?.disconnect();
    for (const g of groups) await removePrefix(this.store(g).client, this.config.buckets.models, onlineGroupPrefix(g));
    const admin = this.kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: Object.values(this.topics) }).catch(() => undefined);
    await admin.disconnect();
  }
}

/** A customer (from `from` on) whose records go to partition `partition` of `partitions`, or (`not`) to another one. */
export function customerOf(partition: number, partitions: number, not = false, from = 0): number {
  let u = from;
  while ((customerPartition(u, partitions) === partition) === not) u++;
  return u;
}

/**
 * Hostile shadow batch records on partition 0 of `partitions`: one whose
 * entries are a customer of another partition, an event time that is not a
 * number, a product that is not an integer and an entry that is not an
 * object (four entries skipped, each counted); one whose `entries` is not an
 * array (the record skipped).
 */
export function hostileBatches(partitions: number): Message[] {
  const version = { slot: 'recommender', version: 1 };
  const own = customerOf(0, partitions);
  const batch = (entries: unknown): ShadowBatch =>
    ({ schema: 2, shadow: 'popularity', servedBy: version, model: version, producedAt: new Date(0).toISOString(), entries }) as ShadowBatch;
  const entry = (requestId: string, user: number, eventTime: unknown, products: unknown[]) => ({ requestId, user, eventTime, products });
  const entries = [
    entry('hostile:0:1', customerOf(0, partitions, true), 1, [1]),
    entry('hostile:0:2', own, 'soon', [1]),
    entry('hostile:0:3', own, 1, [1, 'two']),
    7,
  ];
  return [
    { partition: 0, key: String(own), value: encodeShadowBatch(batch(entries)) },
    { partition: 0, key: String(own), value: encodeShadowBatch(batch({ not: 'an array' })) },
  ];
}

/** Hostile records for each topic: not JSON / not protobuf, JSON of the wrong schema, empty. */
export function hostileRecords(): Record<TopicRole, Message[]> {
  const wrongResult = JSON.stringify({ schema: 1, requestId: 'x', user: 'seven', outcome: 'scored' });
  const wrongShadow = JSON.stringify({ schema: 3, requestId: 'mdata:0:1', shadow: 'oracle' });
  return {
    results: [
      { key: '1', value: Buffer.from('{not json') },
      { key: '2', value: Buffer.from(wrongResult) },
      { key: '3', value: null },
    ],
    shadows: [
      { key: '1', value: Buffer.from([0xff, 0xfe, 0x00]) },
      { key: '2', value: Buffer.from(wrongShadow) },
      { key: '3', value: Buffer.from('[]') },
    ],
    purchases: [
      { key: '1', value: Buffer.from([0x0f, 0x01, 0x02]) },
      { key: '2', value: Buffer.from('{"user": 1}') },
      { key: '3', value: null },
    ],
  };
}
