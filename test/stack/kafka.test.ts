import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config';
import { createKafka } from '../../src/messaging/kafka';
import { decodeRequest, encodeRequest } from '../../src/messaging/schemas';

const cfg = loadConfig();

describe('Kafka broker', () => {
  it('produces and consumes a protobuf message on a fresh topic', async () => {
    const kafka = createKafka(cfg.kafka, '-stack-test');
    const topic = `stack-test-${randomUUID()}`;
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });

    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, messages: [{ key: 'k1', value: encodeRequest({ user: 7, products: [1, 2, 300] }) }] });
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: `stack-test-${randomUUID()}` });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const received = await new Promise<{ key: string; value: ReturnType<typeof decodeRequest> }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no message within 30 s')), 30_000);
      void consumer.run({
        eachMessage: async ({ message }) => {
          clearTimeout(timer);
          resolve({ key: message.key!.toString(), value: decodeRequest(message.value!) });
        },
      });
    });
    await consumer.disconnect();
    await admin.deleteTopics({ topics: [topic] });
    await admin.disconnect();

    expect(received).toEqual({ key: 'k1', value: { user: 7, products: [1, 2, 300] } });
  });
});
