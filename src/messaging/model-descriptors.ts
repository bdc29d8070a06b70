/**
 * The `models` topic as a log of published model URLs: read it to the end
 * (to find the descriptors published, or whether a key was already published),
 * and publish a descriptor exactly once per publisher and key.
 */
import { randomUUID } from 'node:crypto';
import { Partitioners, type Kafka, type KafkaMessage } from 'kafkajs';
import { decodeDescriptor, encodeDescriptor, type ModelDescriptor } from './schemas';

export interface PublishedDescriptor {
  key: string;
  descriptor: ModelDescriptor;
  partition: number;
  offset: string;
  timestamp: number;
}

/** Every decodable descriptor on the topic, oldest first, up to the current end. */
export async function readDescriptors(kafka: Kafka, topic: string, timeoutMs = 30_000): Promise<PublishedDescriptor[]> {
  const admin = kafka.admin();
  await admin.connect();
  let ends: { partition: number; high: string; low: string }[];
  try {
    if (!(await admin.listTopics()).includes(topic)) return [];
    ends = (await admin.fetchTopicOffsets(topic)).map((o) => ({ partition: o.partition, high: o.high, low: o.low }));
  } finally {
    await admin.disconnect();
  }
  const pending = new Map(ends.filter((e) => BigInt(e.high) > BigInt(e.low)).map((e) => [e.partition, BigInt(e.high)]));
  if (pending.size === 0) return [];

  // A throw-away group: reading the log must not move anybody's offsets.
  const consumer = kafka.consumer({ groupId: `descriptor-reader-${randomUUID()}`, allowAutoTopicCreation: false });
  const found: PublishedDescriptor[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`reading topic ${topic} to its end took over ${timeoutMs} ms`)), timeoutMs);
      // The end is judged by the last offset of each fetched batch, control
      // records and aborted or compacted offsets included: kafkajs never
      // delivers a transaction marker, so a topic ending with one would
      // otherwise never be read "to its end" (issue 24, item 2).
      consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
        const end = pending.get(payload.partition);
        if (end !== undefined && BigInt(payload.lastOffset) + 1n >= end) pending.delete(payload.partition);
        if (pending.size === 0) {
          clearTimeout(timer);
          resolve();
        }
      });
      void consumer
        .run({
          autoCommit: false,
          eachMessage: async ({ partition, message }) => {
            const record = decodedRecord(partition, message);
            if (record) found.push(record);
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return found.sort(byLogPosition);
}

function decodedRecord(partition: number, message: KafkaMessage): PublishedDescriptor | undefined {
  if (!message.value) return undefined;
  try {
    return {
      key: message.key?.toString() ?? '',
      descriptor: decodeDescriptor(message.value),
      partition,
      offset: message.offset,
      timestamp: Number(message.timestamp),
    };
  } catch {
    return undefined; // an undecodable record is skipped: it never named a model
  }
}

/**
 * Log order: by offset (then partition). Never by the record's timestamp,
 * which the producer sets: clock skew or a forged timestamp must not decide
 * what a restarted server serves. (The models topic has one partition.)
 */
export function byLogPosition(a: { partition: number; offset: string }, b: { partition: number; offset: string }): number {
  const d = BigInt(a.offset) - BigInt(b.offset);
  return d < 0n ? -1 : d > 0n ? 1 : a.partition - b.partition;
}

/** The identity a deploy or rollback run puts on its descriptors (ModelDescriptor.publisher). */
export function publisherOf(run: { workflowId: string; runId: string }): string {
  return `${run.workflowId}/${run.runId}`;
}

/** Whether `d` is the record `publisher` put under `key` (anyone can write a key; only the publisher field says whose it is). */
export function isOwnRecord(d: PublishedDescriptor, key: string, publisher: string): boolean {
  return d.key === key && d.descriptor.publisher === publisher;
}

/**
 * Publishes `descriptor` under `key` unless this publisher's record with that
 * key is already on the topic (a retried attempt or a replayed workflow then
 * publishes nothing). A record under the same key from anybody else (a
 * forged one written ahead of the deploy) does not count: the deploy
 * publishes its own after it.
 */
export async function publishDescriptorOnce(
  kafka: Kafka,
  topic: string,
  key: string,
  descriptor: ModelDescriptor & { publisher: string },
): Promise<{ published: boolean; partition: number; offset: string }> {
  const existing = (await readDescriptors(kafka, topic)).find((d) => isOwnRecord(d, key, descriptor.publisher));
  if (existing) {
    if (existing.descriptor.url !== descriptor.url) {
      throw new Error(
        `key ${key} was already published with another URL by this run (${existing.descriptor.url}); refusing to publish ${descriptor.url}`,
      );
    }
    return { published: false, partition: existing.partition, offset: existing.offset };
  }
  // Idempotent producer: a retried send inside this call cannot duplicate the
  // record (kafkajs requires unlimited retries for it; the activity's
  // start-to-close timeout bounds the call).
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: true,
    createPartitioner: Partitioners.DefaultPartitioner,
    retry: { retries: Number.MAX_SAFE_INTEGER, maxRetryTime: 10_000 },
  });
  await producer.connect();
  try {
    const [meta] = await producer.send({ topic, acks: -1, messages: [{ key, value: encodeDescriptor(descriptor) }] });
    return { published: true, partition: meta.partition, offset: meta.baseOffset ?? '-1' };
  } finally {
    await producer.disconnect();
  }
}
