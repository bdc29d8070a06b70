/**
 * Compaction on the real MinIO: the same events give the same bytes however
 * they were cut into segments, in event-time order across partitions and
 * within the reorder window; the manifest is only moved by new inputs.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config';
import { createMinioClient } from '../../src/storage/minio-client';
import { getObjectBuffer } from '../../src/storage/objects';
import { compactHistory, readHistoryManifest } from '../../src/store/history-compaction';
import { formatSegmentLine, SEGMENT_HEADER, writeSegment, type SegmentLine, type SegmentStore } from '../../src/store/segments';
import { removePrefix } from '../helpers/minio';

const cfg = loadConfig();
const client = createMinioClient(cfg.minio);
const prefixes: string[] = [];

function storeFor(tag: string): SegmentStore {
  const dataPrefix = `compaction-it-${randomUUID().slice(0, 8)}-${tag}`;
  prefixes.push(dataPrefix);
  return { client, bucket: cfg.buckets.data, dataPrefix, topic: 'purchases' };
}

afterAll(async () => {
  for (const p of prefixes) await removePrefix(client, cfg.buckets.data, `${p}/`);
});

/** Partition p's events at offsets 0..n-1: times increasing by 10 but reversed in blocks of `block` (displacement block - 1). */
function partitionEvents(p: number, n: number, block = 2): SegmentLine[] {
  const out: SegmentLine[] = [];
  for (let i = 0; i < n; i++) {
    const start = i - (i % block);
    const j = Math.min(start + block, n) - 1 - (i - start);
    out.push({ user: p * 1000 + i, products: [i % 7, p], timeMs: 1_000 + j * 10 + p, offset: BigInt(i), id: `p${p}-${i}` });
  }
  return out;
}

async function writeChain(store: SegmentStore, partition: number, events: SegmentLine[], size: number): Promise<void> {
  for (let i = 0; i < events.length; i += size) {
    const part = events.slice(i, i + size);
    const body = Buffer.from(SEGMENT_HEADER + '\n' + part.map(formatSegmentLine).join(''));
    expect(await writeSegment(store, partition, part[0].offset, part[part.length - 1].offset, body)).toBe(true);
  }
}

async function compacted(store: SegmentStore, sizes: number[], window = 100, block = 2): Promise<{ bytes: Buffer; written: boolean[] }> {
  const base = `${store.dataPrefix}/transactions.csv`;
  await client.putObject(store.bucket, base, Buffer.from('customerId,products\n7,1|2'));
  for (let p = 0; p < 3; p++) await writeChain(store, p, partitionEvents(p, 301, block), sizes[p]);
  const first = await compactHistory(store, base, { reorderWindow: window });
  const again = await compactHistory(store, base, { reorderWindow: window });
  expect(again.manifest).toEqual(first.manifest);
  return { bytes: await getObjectBuffer(client, store.bucket, first.manifest.historyKey), written: [first.written, again.written] };
}

describe('history compaction', () => {
  it('same events, different segments: the same bytes, in event-time order after the base', async () => {
    const a = await compacted(storeFor('a'), [50, 301, 7]);
    const b = await compacted(storeFor('b'), [1, 99, 300]);
    expect(a.written).toEqual([true, false]);
    expect(a.bytes.equals(b.bytes)).toBe(true);
    const lines = a.bytes.toString('utf8').trimEnd().split('\n');
    expect(lines.slice(0, 2)).toEqual(['customerId,products', '7,1|2']); // the base, newline added
    const events = [0, 1, 2].flatMap((p) => partitionEvents(p, 301)).sort((x, y) => x.timeMs - y.timeMs || x.user - y.user);
    expect(lines.slice(2)).toEqual(events.map((e) => `${e.user},${e.products.join('|')}`));
  });

  it('an event later than the reorder window stays late, deterministically', async () => {
    const a = await compacted(storeFor('w1'), [50, 50, 50], 2, 8);
    const b = await compacted(storeFor('w2'), [301, 3, 20], 2, 8);
    expect(a.bytes.equals(b.bytes)).toBe(true);
    const users = a.bytes
      .toString('utf8')
      .trimEnd()
      .split('\n')
      .slice(2)
      .map((l) => Number(l.split(',')[0]));
    const times = users.map((u) => partitionEvents(Math.floor(u / 1000), 301, 8)[u % 1000].timeMs);
    expect(times.some((t, i) => i > 0 && t < times[i - 1])).toBe(true); // displacement 7 > window 2: some stay late
  });

  it('a corrupt segment fails the compaction naming the object and line; the manifest stays as it was', async () => {
    const store = storeFor('bad');
    const { bytes } = await compacted(store, [100, 100, 100]);
    const before = await readHistoryManifest(store);
    const big = partitionEvents(3, 20_000).map(formatSegmentLine).join(''); // beyond the first uploaded chunk
    await writeSegment(store, 3, 0n, 20_000n, Buffer.from(`${SEGMENT_HEADER}\n${big}7,1,5,not-an-offset,x\n`));
    await expect(compactHistory(store, `${store.dataPrefix}/transactions.csv`, { reorderWindow: 100 })).rejects.toThrow(
      /segments\/purchases\/3\/00000000000000000000\.csv line 20002: malformed field/,
    );
    expect(await readHistoryManifest(store)).toEqual(before);
    expect(bytes.length).toBeGreaterThan(0);
  });
});
