/**
 * The anchor of bench:serve: a kafkajs consume → produce relay that does
 * nothing else. It reads each batch of `--from`, writes every record's
 * bytes to `--to` (keyed by its request id, `<topic>:<partition>:<offset>`,
 * so the bench matches it like a result), then commits: the same
 * at-least-once loop as the model server (acks from all replicas, one
 * request in flight, commit after the write), with no scoring and no
 * encoding. What the model server reaches is judged against this, measured
 * in the same run on the same machine.
 *
 *   tsx bench/kafka-relay.ts --from T1 --to T2 --group G
 */
import { Command } from 'commander';
import { Partitioners } from 'kafkajs';
import { loadConfig } from '../src/config';
import { createKafka } from '../src/messaging/kafka';

async function main(): Promise<void> {
  const o = new Command()
    .requiredOption('--from <topic>')
    .requiredOption('--to <topic>')
    .requiredOption('--group <id>')
    .parse()
    .opts<{ from: string; to: string; group: string }>();
  const kafka = createKafka(loadConfig().kafka, '-bench-relay');
  // the model server's client settings (src/serving/model-server/server.ts), so only the work differs
  const producer = kafka.producer({
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  const consumer = kafka.consumer({ groupId: o.group, allowAutoTopicCreation: false, maxWaitTimeInMs: 20 });
  await producer.connect();
  await consumer.connect();
  await consumer.subscribe({ topic: o.from, fromBeginning: true });
  consumer.on(consumer.events.GROUP_JOIN, () => console.log('relay consuming'));
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    eachBatch: async ({ batch, resolveOffset, commitOffsetsIfNecessary }) => {
      if (batch.messages.length === 0) return;
      await producer.send({
        topic: o.to,
        acks: -1,
        messages: batch.messages.map((m) => ({ key: `${batch.topic}:${batch.partition}:${m.offset}`, value: m.value })),
      });
      const last = batch.messages[batch.messages.length - 1].offset;
      await commitOffsetsIfNecessary({
        topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: (BigInt(last) + 1n).toString() }] }],
      });
      resolveOffset(last);
    },
  });
  const stop = (): void => {
    void consumer
      .disconnect()
      .then(() => producer.disconnect())
      .finally(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
