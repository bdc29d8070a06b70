/**
 * The dedup window's rule — a purchase is a duplicate when the same id was
 * kept at one of the `size` offsets before it — checked against a plain Map
 * of each id's last kept offset, on streams from a fixed seed with many
 * repeats, gaps in the offsets and ids of every length up to 128 bytes (so
 * the window's table, entry ring and byte store all grow, wrap and compact).
 */
import { describe, expect, it } from 'vitest';
import { Random } from '../../src/ml/random';
import { DedupWindow } from '../../src/ingest/dedup-window';

/** A seeded stream in [0, 1) (the project's generator). */
function random(seed: number): () => number {
  const r = new Random(seed);
  return () => r.next();
}

/** The rule itself: only an id's last kept offset matters. */
function reference(size: number) {
  const lastKept = new Map<string, number>();
  return (id: string, offset: number): boolean => {
    const k = lastKept.get(id);
    if (k !== undefined && k >= offset - size) return false;
    if (size > 0) lastKept.set(id, offset);
    return true;
  };
}

describe('DedupWindow', () => {
  it.each([0, 1, 2, 3, 17, 1000, 50_000])('admits exactly what the rule admits (window of %i offsets)', (size) => {
    const rng = random(size + 1);
    const int = (n: number) => Math.floor(rng() * n);
    const ids = Array.from({ length: 3 + int(size * 2 + 50) }, (_, i) => `${i}-`.padEnd(1 + int(128), 'abcdefgh'[i % 8]).slice(0, 128));
    const window = new DedupWindow(size);
    const rule = reference(size);
    let offset = 0;
    let duplicates = 0;
    const mismatches: string[] = [];
    for (let n = 0; n < 60_000; n++) {
      offset += rng() < 0.9 ? 1 : 1 + int(size * 2 + 3); // gaps: retention, transaction markers
      const id = ids[int(ids.length)];
      const admitted = n % 2 ? window.admitText(id, offset) : window.admit(Buffer.from(`xx${id}yy`), 2, 2 + id.length, offset);
      if (admitted !== rule(id, offset)) mismatches.push(`${id} at ${offset}: admitted ${admitted}`);
      if (!admitted) duplicates++;
    }
    expect(mismatches.slice(0, 5)).toEqual([]);
    // small windows see many repeats; the largest many distinct ids (it grows to tens of thousands of entries)
    if (size >= 17 && size <= 1000) expect(duplicates).toBeGreaterThan(1000);
    expect(window.entries).toBeLessThanOrEqual(size + 1); // the window before the last offset, and the last
  });

  it('tells apart ids that differ in one byte or in length only', () => {
    const window = new DedupWindow(10);
    expect(window.admitText('abc', 1)).toBe(true);
    expect(window.admitText('abd', 2)).toBe(true);
    expect(window.admitText('ab', 3)).toBe(true);
    expect(window.admitText('abcd', 4)).toBe(true);
    expect(window.admitText('abc', 5)).toBe(false);
    expect(window.admitText('abc', 11)).toBe(false); // kept at 1: one of the 10 offsets before 11
    expect(window.admitText('abc', 12)).toBe(true);
  });
});
