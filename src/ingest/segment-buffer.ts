/**
 * The next segment of a partition, as the bytes of its object: the header,
 * then one line per kept purchase (store/segments.ts owns the format).
 * Lines are written straight into a growing buffer — no string per line
 * to build, keep and join — and the body is that buffer's used part.
 */
import type { Message } from 'kafkajs';
import type { ScannedPurchase } from '../messaging/purchase-scan';
import { encodeSegmentLine, formatSegmentLine, SEGMENT_HEADER, segmentLineBound, type SegmentLine } from '../store/segments';

/** The first allocation; it doubles as lines arrive (a segment is at most SEGMENT_MAX_BYTES, twice that while writes fail). */
const INITIAL_BYTES = 64 * 1024;

/** Purchases kept from [first, last] and the dead letters of that range. */
export class SegmentBuffer {
  private data = Buffer.allocUnsafe(INITIAL_BYTES);
  /** bytes of the body so far */
  bytes = 0;
  purchases = 0;
  readonly letters: Message[] = [];
  /** last offset consumed into this segment (kept, duplicate or dead-lettered) */
  last: bigint | undefined;

  constructor(
    readonly first: bigint,
    readonly openedAt: number,
  ) {
    this.bytes = this.data.write(SEGMENT_HEADER + '\n', 0, 'latin1');
  }

  /** A purchase read by the scan, its id still in the record's `value`. */
  addScanned(p: ScannedPurchase, value: Uint8Array, offsetText: string): void {
    this.reserve(segmentLineBound(p, offsetText));
    this.bytes = encodeSegmentLine(this.data, this.bytes, p, offsetText, value);
    this.purchases++;
  }

  /** A purchase decoded by protobufjs (an encoding the scan declines). */
  add(line: SegmentLine): void {
    const text = formatSegmentLine(line);
    this.reserve(text.length); // ASCII only: characters are bytes
    this.bytes += this.data.write(text, this.bytes, 'latin1');
    this.purchases++;
  }

  /**
   * This buffer's records followed by `newer`'s (whose range starts after
   * this one's last): after a failed write, the two are retried as one segment.
   */
  followedBy(newer: SegmentBuffer): SegmentBuffer {
    const merged = new SegmentBuffer(this.first, this.openedAt);
    const header = merged.bytes;
    merged.data = Buffer.concat([this.body(), newer.body().subarray(header)]);
    merged.bytes = merged.data.length;
    merged.purchases = this.purchases + newer.purchases;
    merged.letters.push(...this.letters, ...newer.letters);
    merged.last = newer.last ?? this.last;
    return merged;
  }

  body(): Buffer {
    return this.data.subarray(0, this.bytes);
  }

  private reserve(n: number): void {
    if (this.bytes + n <= this.data.length) return;
    let size = this.data.length * 2;
    while (size < this.bytes + n) size *= 2;
    const grown = Buffer.allocUnsafe(size);
    this.data.copy(grown, 0, 0, this.bytes);
    this.data = grown;
  }
}
