/**
 * Duplicates by purchase id within a partition: a purchase is a duplicate
 * when a purchase with the same id was kept at one of the `size` offsets
 * before it. The rule depends on the partition's records only (not on when
 * a writer started or crashed), so a writer that resumes from the segments
 * rebuilds exactly the window the previous writer had. Offsets are kept as
 * numbers (exact below 2^53: a partition would need 285 years at a million
 * records a second to pass it).
 *
 * Kept ids are bytes, not strings: the window holds up to `size` of them for
 * that many records, and as strings in a Map they were most of the data
 * publisher's garbage-collection time. They live in typed arrays instead —
 * a FIFO of entries (offset, hash, where the id's bytes are) and an
 * open-addressing table of (hash, entry) pairs, a probe reading one cache
 * line rather than the table and the entries — so none is a heap object. The
 * hash is seeded per window: hostile ids cannot be chosen to collide (the
 * seed changes the speed only, never the verdict).
 */
import { randomInt } from 'node:crypto';

const EMPTY = -1;

export class DedupWindow {
  /** FIFO of kept entries: ring slots [head, head + count) of capacity (a power of 2) */
  private offsets = new Float64Array(16);
  private hashes = new Int32Array(16);
  private starts = new Int32Array(16);
  private lengths = new Int32Array(16);
  private head = 0;
  private count = 0;
  /** the entries' id bytes, in entry order, at [bytesHead, bytesTail) */
  private bytes = new Uint8Array(1024);
  private bytesHead = 0;
  private bytesTail = 0;
  /** slot i: [2i] the hash, [2i + 1] the entry's ring slot or EMPTY; linear probing, at most half full */
  private table = new Int32Array(2 * 64).fill(EMPTY);
  private mask = 63;
  private readonly seed = randomInt(0x7fffffff);
  private scratch = Buffer.alloc(256);

  constructor(readonly size: number) {}

  get entries(): number {
    return this.count;
  }

  /**
   * The purchase with id `source[start, end)` at `offset` (offsets increase
   * from call to call): false when it is a duplicate, else true and it is
   * kept in the window.
   */
  admit(source: Uint8Array, start: number, end: number, offset: number): boolean {
    this.evictBefore(offset - this.size);
    if (this.size === 0) return true;
    const hash = this.hash(source, start, end);
    const { table, mask } = this;
    for (let slot = hash & mask; table[2 * slot + 1] !== EMPTY; slot = (slot + 1) & mask) {
      if (table[2 * slot] === hash && this.sameId(table[2 * slot + 1], source, start, end)) return false;
    }
    this.append(source, start, end, offset, hash);
    return true;
  }

  /** admit for an id as text (ASCII: ids are validated so), e.g. read back from a segment. */
  admitText(id: string, offset: number): boolean {
    const length = Buffer.byteLength(id, 'utf8');
    if (length > this.scratch.length) this.scratch = Buffer.alloc(length);
    this.scratch.write(id, 0, 'utf8');
    return this.admit(this.scratch, 0, length, offset);
  }

  private hash(source: Uint8Array, start: number, end: number): number {
    // FNV-1a from a per-window offset basis, kept non-negative
    let h = this.seed ^ 0x811c9dc5;
    for (let i = start; i < end; i++) h = Math.imul(h ^ source[i], 0x01000193);
    return h & 0x7fffffff;
  }

  private sameId(e: number, source: Uint8Array, start: number, end: number): boolean {
    const length = end - start;
    if (this.lengths[e] !== length) return false;
    const at = this.starts[e] - start;
    for (let i = start; i < end; i++) if (this.bytes[at + i] !== source[i]) return false;
    return true;
  }

  private append(source: Uint8Array, start: number, end: number, offset: number, hash: number): void {
    if (this.count === this.offsets.length) this.growEntries();
    const length = end - start;
    if (this.bytesTail + length > this.bytes.length) this.makeRoomForBytes(length);
    const e = (this.head + this.count) & (this.offsets.length - 1);
    this.offsets[e] = offset;
    this.hashes[e] = hash;
    this.starts[e] = this.bytesTail;
    this.lengths[e] = length;
    // a loop, not set(subarray): ids are short, and a view per id is garbage
    for (let i = start, at = this.bytesTail; i < end; i++, at++) this.bytes[at] = source[i];
    this.bytesTail += length;
    this.count++;
    if (this.count * 2 > this.mask + 1) this.rebuildTable(2 * (this.mask + 1));
    else this.insert(e);
  }

  private insert(e: number): void {
    const { table, mask } = this;
    let slot = this.hashes[e] & mask;
    while (table[2 * slot + 1] !== EMPTY) slot = (slot + 1) & mask;
    table[2 * slot] = this.hashes[e];
    table[2 * slot + 1] = e;
  }

  private evictBefore(limit: number): void {
    const ring = this.offsets.length - 1;
    while (this.count > 0 && this.offsets[this.head] < limit) {
      const e = this.head;
      this.remove(e);
      this.bytesHead = this.starts[e] + this.lengths[e];
      this.head = (this.head + 1) & ring;
      this.count--;
    }
    if (this.count === 0) this.bytesHead = this.bytesTail = 0;
  }

  /** Removes entry e from the table (backward-shift deletion keeps every probe chain unbroken). */
  private remove(e: number): void {
    const { table, mask } = this;
    let slot = this.hashes[e] & mask;
    while (table[2 * slot + 1] !== e) slot = (slot + 1) & mask;
    let hole = slot;
    for (let next = (hole + 1) & mask; table[2 * next + 1] !== EMPTY; next = (next + 1) & mask) {
      const home = table[2 * next] & mask;
      // the entry at `next` may fill the hole unless its home lies cyclically in (hole, next]
      if (((next - home) & mask) >= ((next - hole) & mask)) {
        table[2 * hole] = table[2 * next];
        table[2 * hole + 1] = table[2 * next + 1];
        hole = next;
      }
    }
    table[2 * hole + 1] = EMPTY;
  }

  private growEntries(): void {
    const capacity = this.offsets.length * 2;
    this.offsets = this.inOrder(this.offsets, new Float64Array(capacity));
    this.hashes = this.inOrder(this.hashes, new Int32Array(capacity));
    this.starts = this.inOrder(this.starts, new Int32Array(capacity));
    this.lengths = this.inOrder(this.lengths, new Int32Array(capacity));
    this.head = 0;
    this.rebuildTable(this.mask + 1);
  }

  /** The live entries' values of a ring array, oldest first, into `fresh`. */
  private inOrder<A extends Float64Array | Int32Array>(ring: A, fresh: A): A {
    for (let i = 0; i < this.count; i++) fresh[i] = ring[(this.head + i) & (ring.length - 1)];
    return fresh;
  }

  /** Moves the live bytes to the front, into a buffer twice as large when they would fill more than half of it. */
  private makeRoomForBytes(length: number): void {
    const live = this.bytesTail - this.bytesHead;
    let capacity = this.bytes.length;
    while ((live + length) * 2 > capacity) capacity *= 2;
    if (capacity === this.bytes.length) this.bytes.copyWithin(0, this.bytesHead, this.bytesTail);
    else {
      const fresh = new Uint8Array(capacity);
      fresh.set(this.bytes.subarray(this.bytesHead, this.bytesTail));
      this.bytes = fresh;
    }
    for (let i = 0; i < this.count; i++) this.starts[(this.head + i) & (this.offsets.length - 1)] -= this.bytesHead;
    this.bytesTail = live;
    this.bytesHead = 0;
  }

  private rebuildTable(size: number): void {
    this.table = new Int32Array(2 * size).fill(EMPTY);
    this.mask = size - 1;
    for (let i = 0; i < this.count; i++) this.insert((this.head + i) & (this.offsets.length - 1));
  }
}
