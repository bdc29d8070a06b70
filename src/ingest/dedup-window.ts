/**
 * Duplicates by purchase id within a partition: a purchase is a duplicate
 * when a purchase with the same id was kept at one of the `size` offsets
 * before it. The rule depends on the partition's records only (not on when
 * a writer started or crashed), so a writer that resumes from the segments
 * rebuilds exactly the window the previous writer had. Offsets are kept as
 * numbers (exact below 2^53: a partition would need 285 years at a million
 * records a second to pass it).
 */
export class DedupWindow {
  private readonly lastSeen = new Map<string, number>();
  private readonly offsets: number[] = [];
  private readonly ids: string[] = [];
  private head = 0;

  constructor(readonly size: number) {}

  /** Whether `id` was kept within the window before `offset` (evicting what fell out of it). */
  isDuplicate(id: string, offset: number): boolean {
    this.evictBefore(offset - this.size);
    return this.lastSeen.has(id);
  }

  /** Records a kept purchase (offsets increase from call to call). */
  keep(id: string, offset: number): void {
    if (this.size === 0) return;
    this.lastSeen.set(id, offset);
    this.offsets.push(offset);
    this.ids.push(id);
  }

  get entries(): number {
    return this.offsets.length - this.head;
  }

  private evictBefore(limit: number): void {
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
