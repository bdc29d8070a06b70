/**
 * Compaction: the base history (transactions.csv) followed by every
 * ingested purchase of every partition's segment chain, in event-time
 * order, written as a new history object; then the manifest is flipped to
 * it with a conditional write (docs/design.md, "Purchases in").
 *
 * The output is a function of its inputs only — the base object's ETag,
 * each partition's chain up to its end offset, the reorder window — and is
 * named by their digest, so a crash at any point, a rerun or two
 * concurrent compactions write the same bytes to the same key. Memory is
 * bounded: segments are streamed, each partition passes through a reorder
 * heap of `reorderWindow` purchases (segments are in offset order, which is
 * event-time order only roughly) and the partitions are merged k-way.
 */
import { Readable } from 'node:stream';
import { sha256Hex } from '../digest/sha256';
import { readVersioned, writeIfUnchanged } from './versioned-object';
import { getOptionalObject } from '../storage/objects';
import { compactedHistoryKey, historyManifestKey, historyRebaseKey, historyRecordKey } from './layout';
import { readHistoryRebase } from './history-rebase';
import { MinHeap } from './min-heap';
import {
  chainEnd,
  listSegments,
  readSegmentLines,
  segmentPartitions,
  type SegmentLine,
  type SegmentRef,
  type SegmentStore,
} from './segments';

export interface HistoryManifest {
  schema: 1;
  historyKey: string;
  inputsDigest: string;
  base: { key: string; etag: string };
  topic: string;
  /** per partition: the offset after the last one folded in (decimal) */
  partitions: Record<string, string>;
  segments: number;
  /** ingested purchases in the history (lines after the base) */
  purchases: number;
  reorderWindow: number;
  compactedAt: string;
}

interface Keyed {
  line: SegmentLine;
  partition: number;
}

/** The history's order: event time, then customer, then purchase id, then where it was read (a total order). */
export function before(a: Keyed, b: Keyed): boolean {
  const x = a.line;
  const y = b.line;
  if (x.timeMs !== y.timeMs) return x.timeMs < y.timeMs;
  if (x.user !== y.user) return x.user < y.user;
  if (x.id !== y.id) return x.id < y.id;
  if (a.partition !== b.partition) return a.partition < b.partition;
  return x.offset < y.offset;
}

interface Chain {
  partition: number;
  segments: SegmentRef[];
  end: bigint;
}

/** The chain's purchases at or above `from` (below it: in the rebase's history, store/history-rebase.ts). */
async function* chainLines(store: SegmentStore, chain: Chain, from: bigint): AsyncGenerator<Keyed> {
  const { segments, partition } = chain;
  for (let i = 0; i < segments.length; i++) {
    const end = i + 1 < segments.length ? segments[i + 1].first : chain.end;
    if (end <= from) continue;
    for await (const line of readSegmentLines(store, segments[i], end)) if (line.offset >= from) yield { line, partition };
  }
}

/** Where compaction starts: the base as it is, or the rebase's history when retention removed folded segments. */
async function startingPoint(store: SegmentStore, baseKey: string) {
  const base = { key: baseKey, etag: (await store.client.statObject(store.bucket, baseKey)).etag };
  const rebase = await readHistoryRebase(store);
  if (!rebase) return { base, from: {} as Record<string, string>, purchases: 0 };
  if (rebase.base.key !== base.key || rebase.base.etag !== base.etag) {
    throw new Error(
      `${store.bucket}/${baseKey} was replaced after segment retention folded the ingested purchases into ${rebase.historyKey}: ` +
        `the removed segments cannot be compacted onto the new base (start a new data prefix, or remove ${historyRebaseKey(store.dataPrefix)} and every segment to start over)`,
    );
  }
  const start = { key: rebase.historyKey, etag: (await store.client.statObject(store.bucket, rebase.historyKey)).etag };
  return { base, start, from: rebase.partitions, purchases: rebase.purchases };
}

/** Emits `source` in order as far as a heap of `window` items can put it (an item more than `window` late stays late). */
async function* reordered(source: AsyncIterable<Keyed>, window: number): AsyncGenerator<Keyed> {
  const heap = new MinHeap<Keyed>(before);
  for await (const item of source) {
    heap.push(item);
    if (heap.size > window) yield heap.pop() as Keyed;
  }
  while (heap.size > 0) yield heap.pop() as Keyed;
}

async function* mergedLines(sources: AsyncGenerator<Keyed>[]): AsyncGenerator<Keyed> {
  const heap = new MinHeap<{ item: Keyed; source: number }>((a, b) => before(a.item, b.item));
  for (let s = 0; s < sources.length; s++) {
    const r = await sources[s].next();
    if (!r.done) heap.push({ item: r.value, source: s });
  }
  while (heap.size > 0) {
    const top = heap.pop() as { item: Keyed; source: number };
    yield top.item;
    const r = await sources[top.source].next();
    if (!r.done) heap.push({ item: r.value, source: top.source });
  }
}

/** The base object's bytes (newline-terminated), then one history line per purchase, in ~64 KiB chunks. */
async function* historyBytes(
  store: SegmentStore,
  baseKey: string,
  purchases: AsyncIterable<Keyed>,
  count: { n: number },
  tick: () => void,
) {
  let last = 10;
  for await (const chunk of await store.client.getObject(store.bucket, baseKey)) {
    const buf = chunk as Buffer;
    if (buf.length) last = buf[buf.length - 1];
    yield buf;
  }
  if (last !== 10) yield Buffer.from('\n');
  let parts: string[] = [];
  let size = 0;
  for await (const { line } of purchases) {
    const text = `${line.user},${line.products.join('|')}\n`;
    parts.push(text);
    size += text.length;
    count.n++;
    if (size >= 1 << 16) {
      tick();
      yield Buffer.from(parts.join(''), 'latin1');
      parts = [];
      size = 0;
    }
  }
  if (parts.length) yield Buffer.from(parts.join(''), 'latin1');
}

/**
 * A declared upper bound of a history's size: the minio client sizes
 * multipart parts from it (64 MiB), where an unknown size would make it
 * buffer the whole object in one part.
 */
const SIZE_BOUND_FOR_PARTS = 64 * 1024 ** 3;

/**
 * Uploads `source` whole, or fails when it fails: the minio client pipes the
 * source into its part splitter without watching the source's errors, so a
 * bad segment would leave its promise pending for ever (and never complete
 * the upload: nothing half-written is ever visible).
 */
async function upload(store: SegmentStore, key: string, source: Readable): Promise<void> {
  const failed = new Promise<never>((_resolve, reject) => source.once('error', reject));
  const put = store.client.putObject(store.bucket, key, source, SIZE_BOUND_FOR_PARTS, { 'Content-Type': 'text/csv' });
  put.catch(() => undefined); // when the source failed first, this one is abandoned
  await Promise.race([put, failed]);
}

async function chains(store: SegmentStore): Promise<Chain[]> {
  const out: Chain[] = [];
  for (const partition of await segmentPartitions(store)) {
    const segments = await listSegments(store, partition);
    out.push({ partition, segments, end: await chainEnd(store, segments) });
  }
  return out;
}

export interface CompactionResult {
  manifest: HistoryManifest;
  /** false when the manifest already named the history of these inputs */
  written: boolean;
}

/** Compacts the base and every segment into a new history and points the manifest at it (retrying a lost race). */
export interface CompactionOptions {
  reorderWindow: number;
  /** called as the history is written (an activity's heartbeat) */
  heartbeat?: () => void;
  now?: () => Date;
}

export async function compactHistory(store: SegmentStore, baseKey: string, options: CompactionOptions): Promise<CompactionResult> {
  const { reorderWindow, heartbeat = () => undefined, now = () => new Date() } = options;
  for (let attempt = 1; ; attempt++) {
    const current = await readVersioned(store.client, store.bucket, historyManifestKey(store.dataPrefix));
    const previous = current ? (JSON.parse(current.body.toString('utf8')) as HistoryManifest) : undefined;
    const { base, start, from, purchases: rebased } = await startingPoint(store, baseKey);
    const found = await chains(store);
    const partitions = Object.fromEntries(found.map((c) => [String(c.partition), c.end.toString()]));
    // a rebased compaction names its starting history and offsets too (absent otherwise: digests as before)
    const inputs = { format: 1, base, topic: store.topic, partitions, reorderWindow, ...(start && { start, from }) };
    const inputsDigest = sha256Hex(JSON.stringify(inputs));
    if (previous?.inputsDigest === inputsDigest) return { manifest: previous, written: false };
    const historyKey = compactedHistoryKey(store.dataPrefix, inputsDigest);
    const count = { n: rebased };
    const merged = mergedLines(found.map((c) => reordered(chainLines(store, c, BigInt(from[String(c.partition)] ?? '0')), reorderWindow)));
    await upload(store, historyKey, Readable.from(historyBytes(store, start?.key ?? baseKey, merged, count, heartbeat)));
    const manifest: HistoryManifest = {
      schema: 1,
      historyKey,
      inputsDigest,
      base,
      topic: store.topic,
      partitions,
      segments: found.reduce((n, c) => n + c.segments.length, 0),
      purchases: count.n,
      reorderWindow,
      compactedAt: now().toISOString(),
    };
    const body = Buffer.from(JSON.stringify(manifest, null, 2));
    // kept per history: the data trigger counts from the active model's history, which may be older than the newest
    await store.client.putObject(store.bucket, historyRecordKey(store.dataPrefix, inputsDigest), body, body.length, {
      'Content-Type': 'application/json',
    });
    if (await writeIfUnchanged(store.client, store.bucket, historyManifestKey(store.dataPrefix), body, current?.etag ?? null)) {
      return { manifest, written: true };
    }
    if (attempt >= 5)
      throw new Error(`the history manifest ${store.bucket}/${historyManifestKey(store.dataPrefix)} kept changing under 5 compactions`);
  }
}

/** The manifest, or undefined before the first compaction. */
export async function readHistoryManifest(
  store: Pick<SegmentStore, 'client' | 'bucket' | 'dataPrefix'>,
): Promise<HistoryManifest | undefined> {
  const v = await readVersioned(store.client, store.bucket, historyManifestKey(store.dataPrefix));
  return v ? (JSON.parse(v.body.toString('utf8')) as HistoryManifest) : undefined;
}

/** The manifest of the compacted history `inputsDigest`, or undefined (not kept: compacted before it was). */
export async function readHistoryRecord(
  store: Pick<SegmentStore, 'client' | 'bucket' | 'dataPrefix'>,
  inputsDigest: string,
): Promise<HistoryManifest | undefined> {
  const body = await getOptionalObject(store.client, store.bucket, historyRecordKey(store.dataPrefix, inputsDigest));
  return body ? (JSON.parse(body.toString('utf8')) as HistoryManifest) : undefined;
}
