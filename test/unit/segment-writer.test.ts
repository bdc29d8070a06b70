/**
 * SegmentWriter with a store whose writes fail (a fake, in addition to the
 * real-stack tests of test/ingest/): the flush is retried on the timer, not
 * once a record; the partition pauses at twice the segment limits, so the
 * buffer stays bounded; it resumes and commits once a write succeeds.
 */
import type { Consumer, EachBatchPayload, KafkaMessage, Producer } from 'kafkajs';
import type { Client } from 'minio';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config';
import { silentLog } from '../../src/ingest/log';
import { createPublisherMetrics } from '../../src/ingest/metrics';
import { SegmentWriter } from '../../src/ingest/segment-writer';
import { encodePurchase } from '../../src/messaging/schemas';
import { PartitionProgress } from '../../src/serving/model-server/partition-progress';

function fakes(failing: { writes: boolean }) {
  const calls = { puts: 0, paused: 0, resumed: 0, commits: [] as string[] };
  const client = {
    putObject: async () => {
      calls.puts++;
      if (failing.writes) throw Object.assign(new Error('disk full'), { code: 'XMinioStorageFull' });
      return { etag: 'e' };
    },
    listObjectsV2: () => (async function* () {})(),
  } as unknown as Client;
  const consumer = {
    seek: () => undefined,
    pause: () => void calls.paused++,
    resume: () => void calls.resumed++,
    commitOffsets: async (o: { offset: string }[]) => void calls.commits.push(o[0].offset),
  } as unknown as Consumer;
  const producer = { send: async () => [] } as unknown as Producer;
  return { client, consumer, producer, calls };
}

function batch(from: number, n: number): EachBatchPayload {
  const messages = Array.from({ length: n }, (_, i) => ({
    offset: String(from + i),
    key: Buffer.from('1'),
    value: encodePurchase({ user: 1, products: [2], timeMs: 1_000, id: `p${from + i}` }),
    timestamp: '1000',
  })) as unknown as KafkaMessage[];
  return {
    batch: { topic: 't', partition: 0, highWatermark: String(from + n), messages },
    resolveOffset: () => undefined,
    heartbeat: async () => undefined,
    isRunning: () => true,
    isStale: () => false,
  } as unknown as EachBatchPayload;
}

describe('SegmentWriter while writes fail', () => {
  it('pauses at twice the limits, retries on the timer, resumes and commits after a write', async () => {
    const failing = { writes: true };
    const { client, consumer, producer, calls } = fakes(failing);
    const base = loadConfig({});
    const purchases = { ...base.purchases, segment: { ...base.purchases.segment, maxPurchases: 10 } };
    const writer = new SegmentWriter({
      consumer,
      producer,
      store: { client, bucket: 'b', dataPrefix: 'p', topic: 't' },
      purchases,
      metrics: createPublisherMetrics({ defaultMetrics: false }),
      progress: new PartitionProgress(),
      log: silentLog,
    });
    await writer.eachBatch(batch(0, 50));
    const [state] = writer.partitions();
    expect(calls.puts).toBe(1); // one failed attempt at 10, none for each later record
    expect(calls.paused).toBe(1);
    expect(state.buffer?.purchases).toBe(20); // twice the limit, the rest left unresolved on Kafka
    expect(state.failing).toMatch(/disk full/);
    await writer.flushAged(); // the timer's retry, still failing
    expect(calls.puts).toBe(2);
    failing.writes = false;
    await writer.flushAged();
    expect(calls.resumed).toBe(1);
    expect(state.durable).toBe(20n);
    expect(calls.commits).toEqual(['20']);
  });
});
