/**
 * The rebase (segment retention, issue 22): before retention removes
 * segments already folded into a compacted history, it records that history
 * as what compaction starts from — its bytes in place of the base, and per
 * partition the offset below which segments are no longer read. A later
 * compaction's output is then that history followed by the purchases at or
 * above those offsets (still a function of its inputs only). The record
 * only moves forward (a conditional write, offsets never lower): a slow
 * retention run cannot point compaction back at segments a faster one removed.
 */
import { historyRebaseKey } from './layout';
import type { SegmentStore } from './segments';
import { readVersioned, writeIfUnchanged } from './versioned-object';

export interface HistoryRebase {
  /** the compacted history compaction starts from */
  historyKey: string;
  /** its purchases after the original base */
  purchases: number;
  /** per partition: the offset after the last record it holds (decimal) */
  partitions: Record<string, string>;
  /** the original base it was compacted on: a replaced transactions.csv cannot be rebased */
  base: { key: string; etag: string };
}

type Where = Pick<SegmentStore, 'client' | 'bucket' | 'dataPrefix'>;

export async function readHistoryRebase(store: Where): Promise<HistoryRebase | undefined> {
  const v = await readVersioned(store.client, store.bucket, historyRebaseKey(store.dataPrefix));
  return v ? (JSON.parse(v.body.toString('utf8')) as HistoryRebase) : undefined;
}

const notBehind = (next: HistoryRebase, current: HistoryRebase): boolean =>
  Object.entries(current.partitions).every(([p, o]) => BigInt(next.partitions[p] ?? '0') >= BigInt(o));

/** Records `next` unless the current rebase is ahead of it on some partition; returns the rebase in force. */
export async function advanceHistoryRebase(store: Where, next: HistoryRebase): Promise<HistoryRebase> {
  for (let attempt = 1; attempt <= 5; attempt++) {
    const v = await readVersioned(store.client, store.bucket, historyRebaseKey(store.dataPrefix));
    const current = v ? (JSON.parse(v.body.toString('utf8')) as HistoryRebase) : undefined;
    if (current && !notBehind(next, current)) return current;
    const body = Buffer.from(JSON.stringify(next, null, 2));
    if (await writeIfUnchanged(store.client, store.bucket, historyRebaseKey(store.dataPrefix), body, v?.etag ?? null)) return next;
  }
  throw new Error(`${store.bucket}/${historyRebaseKey(store.dataPrefix)} kept changing under 5 attempts`);
}
