/**
 * Fault 6: 1,000 malformed messages on `mdata` (random bytes, truncated
 * protobufs, negative and huge ids, empty product lists) while valid
 * requests keep flowing: each malformed one is dead-lettered with a reason,
 * every valid one is answered.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Partitioners } from 'kafkajs';
import { encodeRequest } from '../../src/messaging/schemas';
import { decodeDeadLetter } from '../../src/serving/model-server';
import type { RetrainAndDeployResult } from '../../src/workflows/types';
import { FaultRig } from './harness';

let rig: FaultRig;
beforeAll(async () => {
  rig = await FaultRig.create({ inProcessWorkers: true });
  expect(((await (await rig.start()).result()) as RetrainAndDeployResult).outcome).toBe('deployed');
  await rig.startTraffic(20);
}, 240_000);
afterAll(async () => {
  await rig?.close();
});

function malformed(i: number): Buffer {
  switch (i % 5) {
    case 0:
      return randomBytes(1 + (i % 40));
    case 1:
      return encodeRequest({ user: 3, products: [1, 2, 3, 4, 5] }).subarray(0, 3); // truncated
    case 2:
      return encodeRequest({ user: -1 - i, products: [1] });
    case 3:
      return Buffer.from('10' + 'ffffffffffffffff7f', 'hex'); // user = 2^63-1: beyond a safe id
    default:
      return encodeRequest({ user: 5, products: [] });
  }
}

describe('fault 6: malformed messages on mdata', () => {
  it('dead-letters all 1,000 with a reason and keeps answering valid requests', async () => {
    const producer = rig.sys.kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    for (let start = 0; start < 1000; start += 100) {
      await producer.send({
        topic: rig.sys.config.topics.requests,
        messages: Array.from({ length: 100 }, (_, j) => ({ key: `bad-${start + j}`, value: malformed(start + j) })),
      });
    }
    await producer.disconnect();

    const letters: { reason: string }[] = [];
    const consumer = rig.sys.kafka.consumer({ groupId: `dlq-reader-${rig.sys.id}` });
    await consumer.connect();
    await consumer.subscribe({ topic: rig.sys.config.topics.dlq, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${letters.length} dead letters after 90 s`)), 90_000);
      void consumer.run({
        eachMessage: async ({ message }) => {
          letters.push(decodeDeadLetter(message.value!));
          if (letters.length >= 1000) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
    await consumer.disconnect();
    expect(letters).toHaveLength(1000);
    expect(letters.every((l) => l.reason.length > 0)).toBe(true);

    const summary = await rig.stopTraffic();
    expect(rig.tracker!.stats()).toMatchObject({ sent: summary!.sent, answered: summary!.sent, pending: 0, errors: 0 });
  });
});
