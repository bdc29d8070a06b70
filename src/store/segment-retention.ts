/**
 * Segment retention (issue 22): removes segments already folded into the
 * newest compacted history and older than a cut-off. First the rebase
 * (store/history-rebase.ts) makes that history what compaction starts from,
 * then the segments go — a crash between the two leaves segments that
 * compaction skips. The last segment of each partition always stays: its
 * end is where the partition resumes (docs/design.md, "Exactly once").
 */
import { listObjects, removeKeys } from '../storage/objects';
import { advanceHistoryRebase } from './history-rebase';
import { readHistoryManifest } from './history-compaction';
import { segmentPartitionPrefix } from './layout';
import { listSegments, segmentPartitions, type SegmentStore } from './segments';

export interface SegmentRetention {
  /** folded segments written longer ago than this are removed */
  olderThanMs: number;
  dryRun?: boolean;
  now?: number;
}

export interface SegmentRetentionReport {
  removed: number;
  removedBytes: number;
  /** folded, but younger than the cut-off or a partition's last */
  kept: number;
  /** the compacted history compaction now starts from (absent: nothing compacted yet) */
  rebasedOn?: string;
}

export async function applySegmentRetention(store: SegmentStore, r: SegmentRetention): Promise<SegmentRetentionReport> {
  const report: SegmentRetentionReport = { removed: 0, removedBytes: 0, kept: 0 };
  const manifest = await readHistoryManifest(store);
  if (!manifest || manifest.topic !== store.topic) return report;
  const cutoff = (r.now ?? Date.now()) - r.olderThanMs;
  const doomed: { key: string; size: number; partition: number; nextFirst: bigint }[] = [];
  for (const p of await segmentPartitions(store)) {
    const folded = BigInt(manifest.partitions[String(p)] ?? '0');
    const chain = await listSegments(store, p);
    const stored = new Map(
      (await listObjects(store.client, store.bucket, segmentPartitionPrefix(store.dataPrefix, store.topic, p))).map((o) => [o.key, o]),
    );
    // a segment is folded when the next one starts at or below the history's end; the last one stays
    for (let i = 0; i + 1 < chain.length && chain[i + 1].first <= folded; i++) {
      const o = stored.get(chain[i].key);
      if (o && o.lastModified.getTime() < cutoff) doomed.push({ key: o.key, size: o.size, partition: p, nextFirst: chain[i + 1].first });
      else report.kept++;
    }
  }
  if (doomed.length === 0) return report;
  report.rebasedOn = manifest.historyKey;
  if (!r.dryRun) {
    const rebase = { historyKey: manifest.historyKey, purchases: manifest.purchases, partitions: manifest.partitions, base: manifest.base };
    const inForce = await advanceHistoryRebase(store, rebase);
    report.rebasedOn = inForce.historyKey;
    // only what the rebase in force has folded (another run's, when it got further first)
    const gone = doomed.filter((d) => d.nextFirst <= BigInt(inForce.partitions[String(d.partition)] ?? '0'));
    report.kept += doomed.length - gone.length;
    doomed.splice(0, doomed.length, ...gone);
    for (let i = 0; i < doomed.length; i += 1000)
      await removeKeys(
        store.client,
        store.bucket,
        doomed.slice(i, i + 1000).map((d) => d.key),
      );
  }
  report.removed = doomed.length;
  report.removedBytes = doomed.reduce((n, d) => n + d.size, 0);
  return report;
}
