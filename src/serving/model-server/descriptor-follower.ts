/**
 * Follows the `models` topic. At start the descriptors already on the topic
 * are read (readDescriptors reads the log to its end; the caller picks the
 * newest it can serve); a consumer in a group of its own then delivers
 * every descriptor published afterwards.
 * The topic's end offsets are taken *before* the initial read, and the
 * consumer skips what lies below them: nothing published during start-up
 * is missed, and nothing older than the initial descriptor is replayed.
 */
import { randomUUID } from 'node:crypto';
import type { Consumer, Kafka } from 'kafkajs';
import { readDescriptors, type PublishedDescriptor } from '../../messaging/model-descriptors';
import { DecodeError, decodeDescriptor, type ModelDescriptor } from '../../messaging/schemas';
import { errorText, type Log } from '../../process/json-log';

export interface DescriptorFollower {
  /** the descriptors on the topic at start, oldest first */
  history: PublishedDescriptor[];
  close(): Promise<void>;
}

export interface FollowOptions {
  kafka: Kafka;
  topic: string;
  /** prefix of the throw-away consumer group (one per server start) */
  groupPrefix: string;
  onDescriptor: (published: PublishedDescriptor) => void;
  onUndecodable: (reason: string, partition: number, offset: string) => void;
  log: Log;
}

async function endOffsets(kafka: Kafka, topic: string): Promise<Map<number, bigint>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    if (!(await admin.listTopics()).includes(topic)) return new Map();
    return new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, BigInt(o.high)]));
  } finally {
    await admin.disconnect();
  }
}

export async function followDescriptors(options: FollowOptions): Promise<DescriptorFollower> {
  const { kafka, topic } = options;
  const startAt = await endOffsets(kafka, topic);
  const history = await readDescriptors(kafka, topic);

  // No offsets are committed: the group exists only to receive partitions,
  // and every start reads from the snapshot above.
  const consumer: Consumer = kafka.consumer({
    groupId: `${options.groupPrefix}-${randomUUID()}`,
    allowAutoTopicCreation: false,
    maxWaitTimeInMs: 500,
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        const from = startAt.get(partition);
        if (from !== undefined && BigInt(message.offset) < from) return;
        if (!message.value) {
          options.onUndecodable('empty record', partition, message.offset);
          return;
        }
        let descriptor: ModelDescriptor;
        try {
          descriptor = decodeDescriptor(message.value);
        } catch (err) {
          options.onUndecodable(err instanceof DecodeError ? err.message : errorText(err), partition, message.offset);
          return;
        }
        // A throw here would make kafkajs redeliver the record for ever: report it and move on.
        try {
          options.onDescriptor({
            key: message.key?.toString() ?? '',
            descriptor,
            partition,
            offset: message.offset,
            timestamp: Number(message.timestamp),
          });
        } catch (err) {
          options.onUndecodable(`not applied: ${errorText(err)}`, partition, message.offset);
        }
      },
    });
  } catch (err) {
    await consumer
      .disconnect()
      .catch((e: unknown) => options.log('warn', 'descriptor consumer disconnect failed', { error: errorText(e) }));
    throw err;
  }
  return { history, close: () => consumer.disconnect() };
}
