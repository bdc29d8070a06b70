/**
 * SegmentWriter with a fake store (in addition to the real-stack tests of
 * test/ingest/): while writes fail, the flush is retried on the timer, not
 * once a record; the partition pauses at twice the segment limits, so the
 * buffer stays bounded; it resumes and commits once a write succeeds. A full
 * buffer is written behind the next batches, and the next segment is created
 * only after the one in flight is known to be in the chain.
 */
import type { Consumer, EachBatchPayload, KafkaMessage, Producer } from 'kafkajs';
import type { Client } from 'minio';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config';
import { silentLog } from '../../src/ingest/log';
import { createPublisherMetrics } from '../../src/ingest/metrics';
import { SegmentWriter } from '../../src/ingest/segment-writer';
import { encodePurchase } from '../../src/messaging/schemas';
import { PartitionProgress } from '../../src/process/partition-progress';
import { segmentKey } from '../../src/store/layout';

interface Put {
  key: string;
  body: string;
  last: string;
}

/** A store whose puts fail while `failing.writes`, and each wait for `gate` (resolved by the test) when one is set. */
function fakes(failing: { writes: boolean; code?: string; gate?: Promise<void> }) {
  const calls = { puts: 0, paused: 0, resumed: 0, commits: [] as string[], seeks: [] as string[], events: [] as string[] };
  const written: Put[] = [];
  const client = {
    putObject: async (_bucket: string, key: string, body: Buffer, _size: number, meta: Record<string, string>) => {
      calls.puts++;
      calls.events.push(`put ${key} starts`);
      await failing.gate;
      calls.events.push(`put ${key} ends`);
      if (failing.writes) throw Object.assign(new Error('disk full'), { code: failing.code ?? 'XMinioStorageFull' });
      written.push({ key, body: body.toString('latin1'), last: meta['last-offset'] });
      return { etag: 'e' };
    },
    listObjectsV2: () => (async function* () {})(),
  } as unknown as Client;
  const consumer = {
    seek: (o: { offset: string }) => void calls.seeks.push(o.offset),
    pause: () => void calls.paused++,
    resume: () => void calls.resumed++,
    commitOffsets: async (o: { offset: string }[]) => void calls.commits.push(o[0].offset),
  } as unknown as Consumer;
  const producer = { send: async () => [] } as unknown as Producer;
  return { client, consumer, producer, calls, written };
}

function writerOver(f: ReturnType<typeof fakes>, maxPurchases: number): SegmentWriter {
  const base = loadConfig({});
  return new SegmentWriter({
    consumer: f.consumer,
    producer: f.producer,
    store: { client: f.client, bucket: 'b', dataPrefix: 'p', topic: 't' },
    purchases: { ...base.purchases, segment: { ...base.purchases.segment, maxPurchases } },
    metrics: createPublisherMetrics({ defaultMetrics: false }),
    progress: new PartitionProgress(),
    log: silentLog,
  });
}

/** Resolves with 'returned' when `p` does within 300 ms, else 'blocked'. */
const returns = (p: Promise<void>) => Promise.race([p.then(() => 'returned'), sleep(300).then(() => 'blocked')]);

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
    const f = fakes(failing);
    const { calls } = f;
    const writer = writerOver(f, 10);
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
    // the failed segment and the records taken behind it, as one segment
    expect(f.written.map((w) => [w.key, w.last, w.body.split('\n').length - 2])).toEqual([[segmentKey('p', 't', 0, 0n), '19', 20]]);
  });
});

describe('SegmentWriter writes a full buffer behind the next batches', () => {
  it('the next batch is taken while a segment is written; the next segment is created only after it', async () => {
    let open: () => void = () => undefined;
    const failing = { writes: false, gate: new Promise<void>((r) => (open = r)) };
    const f = fakes(failing);
    const writer = writerOver(f, 10);
    expect(await returns(writer.eachBatch(batch(0, 10)))).toBe('returned'); // the put of [0, 9] waits for the gate
    expect(await returns(writer.eachBatch(batch(10, 5)))).toBe('returned'); // taken meanwhile
    const [state] = writer.partitions();
    expect(state.buffer?.purchases).toBe(5);
    expect(state.durable).toBe(0n);
    const third = writer.eachBatch(batch(15, 5)); // fills [10, 19]: its write waits for [0, 9]'s outcome
    await sleep(50);
    expect(f.calls.puts).toBe(1);
    open();
    await third;
    await writer.flushAll();
    const [first, second] = [segmentKey('p', 't', 0, 0n), segmentKey('p', 't', 0, 10n)];
    expect(f.calls.events).toEqual([`put ${first} starts`, `put ${first} ends`, `put ${second} starts`, `put ${second} ends`]);
    expect(f.written.map((w) => w.last)).toEqual(['9', '19']);
    expect(state.durable).toBe(20n);
    expect(f.calls.commits).toEqual(['10', '20']);
  });

  it('a write lost to another writer drops the buffer filled behind it and re-reads the chain', async () => {
    const f = fakes({ writes: true, code: 'PreconditionFailed' });
    const writer = writerOver(f, 10);
    await writer.eachBatch(batch(0, 10));
    await sleep(10); // the conditional create is refused
    await writer.eachBatch(batch(10, 10)); // takes in the loss before anything else
    expect(f.calls.puts).toBe(1);
    expect(f.calls.seeks).toEqual(['0']); // the fake chain is empty: resume at 0
    const [state] = writer.partitions();
    expect(state.buffer).toBeUndefined();
    expect(state.writing).toBeUndefined();
  });
});
