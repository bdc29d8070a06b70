/**
 * Duplicates by purchase id within a partition: a purchase is a duplicate
 * when a purchase with the same id was kept at one of the `size` offsets
 * before it. The rule depends on the partition's records only (not on when
 * a writer started or crashed), so a writer that resumes from the segments
 * rebuilds exactly the window the previous writer had.
 */
export class DedupWindow {
  private readonly lastSeen = new Map<string, bigint>();
  private readonly offsets: bigint[] = [];
  private readonly ids: string[] = [];
  private head = 0;

  constructor(readonly size: number) {}

  /** Whether `id` was kept within the window before `offset` (evicting what fell out of it). */
  isDuplicate(id: string, offset: bigint): boolean {
    this.evictBefore(offset - BigInt(this.size));
    return this.lastSeen.has(id);
  }

  /** Records a kept purchase (offsets increase from call to call). */
  keep(id: string, offset: bigint): void {
    if (this.size === 0) return;
    this.lastSeen.set(id, offset);
    this.offsets.push(offset);
    this.ids.push(id);
  }

  get entries(): number {
    return this.offsets.length - this.head;
  }

  private evictBefore(limit: bigint): void {
    while (this.head < this.offsets.length && this.offsets[this.head] < limit) {
      const id = this.ids[this.head];
      // a later keep of the same id (possible once the earlier fell out of the window) stays
      if (this.lastSeen.get(id) === this.offsets[this.head]) this.lastSeen.delete(id);
      this.head++;
    }
    if (this.head > 4096 && this.head * 2 > this.offsets.length) {
      this.offsets.splice(0, this.head);
      this.ids.splice(0, this.head);
      this.head = 0;
    }
  }
}
