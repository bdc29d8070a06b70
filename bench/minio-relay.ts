/**
 * The anchor of bench:ingest: a kafkajs consume → MinIO put relay doing
 * nothing else. Each batch's record values are concatenated and put as one
 * object, then the batch's offset is committed — no decoding, validation,
 * dedup, segment protocol or dead letters. The data publisher's rate is
 * judged against this, measured in the same run on the same machine.
 *
 *   tsx bench/minio-relay.ts --topic T --group G --prefix P
 */
import { Command } from 'commander';
import { loadConfig } from '../src/config';
import { createKafka } from '../src/messaging/kafka';
import { createMinioClient } from '../src/storage/minio-client';

async function main(): Promise<void> {
  const o = new Command()
    .requiredOption('--topic <topic>')
    .requiredOption('--group <id>')
    .requiredOption('--prefix <key prefix>')
    .parse()
    .opts<{ topic: string; group: string; prefix: string }>();
  const cfg = loadConfig();
  const minio = createMinioClient(cfg.minio);
  // the data publisher's consumer settings (src/ingest/publisher.ts), so only the work differs
  const consumer = createKafka(cfg.kafka, '-bench-minio-relay').consumer({
    groupId: o.group,
    allowAutoTopicCreation: false,
    maxWaitTimeInMs: 100,
  });
  await consumer.connect();
  await consumer.subscribe({ topic: o.topic, fromBeginning: true });
  consumer.on(consumer.events.GROUP_JOIN, () => console.log('relay consuming'));
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: 4,
    eachBatch: async ({ batch, resolveOffset, commitOffsetsIfNecessary }) => {
      if (batch.messages.length === 0) return;
      const body = Buffer.concat(batch.messages.map((m) => m.value ?? Buffer.alloc(0)));
      await minio.putObject(cfg.buckets.data, `${o.prefix}/${batch.partition}/${batch.firstOffset()}`, body, body.length);
      const last = batch.messages[batch.messages.length - 1].offset;
      await commitOffsetsIfNecessary({
        topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: (BigInt(last) + 1n).toString() }] }],
      });
      resolveOffset(last);
    },
  });
  const stop = (): void => void consumer.disconnect().finally(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
