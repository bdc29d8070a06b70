/**
 * What the data publisher knows of one partition it consumes: where the
 * segment chain in MinIO ends (the source of truth for where to resume),
 * the next offset it expects, the purchases buffered for the next segment
 * and the dedup window — all rebuilt from MinIO when the partition is
 * (re)assigned or a segment write was lost to another writer.
 */
import { chainEnd, listSegments, readSegmentLines, type SegmentStore } from '../store/segments';
import { DedupWindow } from './dedup-window';
import type { SegmentBuffer } from './segment-buffer';

export type WriteOutcome = { result: 'written' | 'lost' } | { result: 'failed'; error: string };

/** A full buffer's segment being written while the partition's next buffer fills. */
export interface SegmentWrite {
  buffer: SegmentBuffer;
  /** resolves (never rejects) once `outcome` is set */
  done: Promise<void>;
  outcome?: WriteOutcome;
}

export interface PartitionState {
  partition: number;
  /** the chain's end: every offset before it is in a segment */
  durable: bigint;
  /** the next offset this writer expects (durable + what is buffered) */
  next: bigint;
  window: DedupWindow;
  buffer?: SegmentBuffer;
  /** at most one write in flight; the next is created only after its outcome is applied */
  writing?: SegmentWrite;
  /** the offset of a pending seek: a batch starting beyond it afterwards is a real gap in the log */
  soughtTo?: bigint;
  /** the partition's high watermark at the last batch (for lag) */
  highWatermark: bigint;
  /** epoch ms of the last segment written, or of the state's load */
  progressAt: number;
  /** the last flush failed (the partition is paused while its buffer is full) */
  failing?: string;
  paused?: boolean;
}

/**
 * Loads a partition's state from its segments: the chain's end, and the
 * ids kept at the `windowSize` offsets before it (read from the tail
 * segments only).
 */
export async function loadPartitionState(store: SegmentStore, partition: number, windowSize: number): Promise<PartitionState> {
  const segments = await listSegments(store, partition);
  const end = await chainEnd(store, segments);
  const window = new DedupWindow(windowSize);
  const from = end - BigInt(windowSize);
  const keep = (line: { id: string; offset: bigint }) => window.admitText(line.id, Number(line.offset));
  let i = segments.length;
  while (i > 0 && segments[i - 1].first > from) i--;
  if (i > 0 && windowSize > 0) i--; // the segment holding `from` itself
  for (let s = i; s < segments.length; s++) {
    const segmentEnd = s + 1 < segments.length ? segments[s + 1].first : end;
    for await (const line of readSegmentLines(store, segments[s], segmentEnd)) {
      if (line.offset >= from) keep(line);
    }
  }
  return { partition, durable: end, next: end, window, highWatermark: end, progressAt: Date.now() };
}
