/**
 * Segment retention on the real MinIO: segments already folded into the
 * newest compacted history and older than the cut-off are removed (never a
 * partition's last), and later compactions start from that history, so the
 * history holds every purchase exactly once, as without retention.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config';
import { createMinioClient } from '../../src/storage/minio-client';
import { getObjectBuffer } from '../../src/storage/objects';
import { compactHistory } from '../../src/store/history-compaction';
import { historyKeys } from '../../src/store/layout';
import { applySegmentRetention } from '../../src/store/segment-retention';
import { formatSegmentLine, listSegments, SEGMENT_HEADER, writeSegment, type SegmentStore } from '../../src/store/segments';
import { removePrefix } from '../helpers/minio';

const id = randomUUID().slice(0, 8);
const cfg = loadConfig();
const minio = createMinioClient(cfg.minio);
const storeOf = (tag: string): SegmentStore => ({
  client: minio,
  bucket: cfg.buckets.data,
  dataPrefix: `segret-it-${id}-${tag}`,
  topic: 'purchases',
});
const BASE = 'customerId,products\n1,2\n';

afterAll(() => removePrefix(minio, cfg.buckets.data, `segret-it-${id}`));

async function ingest(store: SegmentStore, first: number, n: number): Promise<void> {
  const lines = Array.from({ length: n }, (_, i) => {
    const o = first + i;
    return formatSegmentLine({ user: 100 + o, products: [o % 7], timeMs: 1_000 + o, offset: BigInt(o), id: `p-${o}` });
  });
  await writeSegment(store, 0, BigInt(first), BigInt(first + n - 1), Buffer.from(SEGMENT_HEADER + '\n' + lines.join('')));
}

async function historyLines(store: SegmentStore): Promise<string[]> {
  const { manifest } = await compactHistory(store, historyKeys(store.dataPrefix).transactions, { reorderWindow: 10 });
  return (await getObjectBuffer(minio, store.bucket, manifest.historyKey)).toString('utf8').trimEnd().split('\n');
}

describe('segment retention', () => {
  it('removes old folded segments but the last; the history keeps every purchase once, as without retention', async () => {
    const kept = storeOf('kept');
    const pruned = storeOf('pruned');
    for (const s of [kept, pruned]) {
      await minio.putObject(s.bucket, historyKeys(s.dataPrefix).transactions, Buffer.from(BASE));
      for (const first of [0, 10, 20]) await ingest(s, first, 10);
      await historyLines(s);
    }
    const later = Date.now() + 60_000;
    // too young: nothing goes
    expect(await applySegmentRetention(pruned, { olderThanMs: 3_600_000 })).toMatchObject({ removed: 0, kept: 2 });
    const report = await applySegmentRetention(pruned, { olderThanMs: 1, now: later });
    expect(report).toMatchObject({ removed: 2, kept: 0 });
    expect((await listSegments(pruned, 0)).map((s) => s.first)).toEqual([20n]);
    // more purchases arrive; both histories are the base and the same 35 purchases
    for (const s of [kept, pruned]) await ingest(s, 30, 5);
    const expected = await historyLines(kept);
    expect(expected).toHaveLength(2 + 35);
    expect(await historyLines(pruned)).toEqual(expected);
    // and again, after a second retention
    await ingest(pruned, 35, 5);
    await ingest(kept, 35, 5);
    expect(await applySegmentRetention(pruned, { olderThanMs: 1, now: later })).toMatchObject({ removed: 2 });
    expect(await historyLines(pruned)).toEqual(await historyLines(kept));
  });

  it('a base replaced after retention is refused, naming the problem', async () => {
    const s = storeOf('replaced');
    await minio.putObject(s.bucket, historyKeys(s.dataPrefix).transactions, Buffer.from(BASE));
    for (const first of [0, 10]) await ingest(s, first, 10);
    await historyLines(s);
    expect(await applySegmentRetention(s, { olderThanMs: 1, now: Date.now() + 60_000 })).toMatchObject({ removed: 1 });
    await minio.putObject(s.bucket, historyKeys(s.dataPrefix).transactions, Buffer.from('customerId,products\n5,6\n'));
    await expect(historyLines(s)).rejects.toThrow(/was replaced after segment retention/);
  });
});
