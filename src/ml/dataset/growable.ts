/**
 * An append-only Int32Array that doubles its capacity: lets the reader
 * accumulate tens of millions of numbers without one JS object per value.
 */
export class GrowableInt32Array {
  private buffer: Int32Array;
  private used = 0;

  constructor(initialCapacity = 1024) {
    this.buffer = new Int32Array(Math.max(16, initialCapacity));
  }

  get length(): number {
    return this.used;
  }

  push(value: number): void {
    if (this.used === this.buffer.length) {
      const next = new Int32Array(this.buffer.length * 2);
      next.set(this.buffer);
      this.buffer = next;
    }
    this.buffer[this.used++] = value;
  }

  get(index: number): number {
    return this.buffer[index];
  }

  /** A view of the used part (shares memory until the next push that grows). */
  view(): Int32Array {
    return this.buffer.subarray(0, this.used);
  }
}
