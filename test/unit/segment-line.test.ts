/**
 * The data publisher writes segment lines as bytes (encodeSegmentLine,
 * SegmentBuffer); they must be formatSegmentLine's lines byte for byte —
 * the format compaction and the trigger read back.
 */
import { describe, expect, it } from 'vitest';
import { SegmentBuffer } from '../../src/ingest/segment-buffer';
import { ScannedPurchase } from '../../src/messaging/purchase-scan';
import { encodePurchase } from '../../src/messaging/schemas';
import { encodeSegmentLine, formatSegmentLine, SEGMENT_HEADER, segmentLineBound, type SegmentLine } from '../../src/store/segments';

const EDGES = [0, 1, 9, 10, 99, 100, 99_999_999, 1e8, 1e8 + 1, 2 ** 31 - 1, 2 ** 31, 1e10 - 1, 1e10, 1_764_316_800_000, 2 ** 53 - 1];

function encoded(line: SegmentLine): string {
  const id = Buffer.from(`<${line.id}>`, 'latin1');
  const fields = { ...line, products: Float64Array.from(line.products), count: line.products.length, idStart: 1, idEnd: id.length - 1 };
  const target = Buffer.alloc(segmentLineBound(fields, String(line.offset)) + 8, 0xff);
  const end = encodeSegmentLine(target, 3, fields, String(line.offset), id);
  expect(target.subarray(end).every((b) => b === 0xff)).toBe(true); // within the bound, nothing written past the end
  return target.subarray(3, end).toString('latin1');
}

describe('segment lines as bytes', () => {
  it('encodeSegmentLine writes formatSegmentLine’s line for every integer at a digit or range edge', () => {
    for (const n of EDGES) {
      const line = { user: n, products: [n, 0, n], timeMs: n, offset: BigInt(n), id: `id-${n}` };
      expect(encoded(line)).toBe(formatSegmentLine(line));
    }
    const none = { user: 1, products: [], timeMs: 2, offset: 3n, id: 'x' };
    expect(encoded(none)).toBe(formatSegmentLine(none));
  });

  it('SegmentBuffer’s body is the header and the lines, from the scan or from a decoded purchase, past its first allocation', () => {
    const s = new ScannedPurchase(10);
    const buffer = new SegmentBuffer(0n, 0);
    const lines = [SEGMENT_HEADER + '\n'];
    for (let i = 0; i < 5000; i++) {
      const line = {
        user: i * 7919,
        products: [i, 2 ** 40 + i],
        timeMs: 1_764_316_800_000 + i,
        offset: BigInt(1000 + i),
        id: `order-${i}`,
      };
      lines.push(formatSegmentLine(line));
      if (i % 3) {
        const value = encodePurchase(line);
        expect(s.scan(value)).toBe(true);
        buffer.addScanned(s, value, String(line.offset));
      } else buffer.add(line);
    }
    expect(buffer.body().toString('latin1')).toBe(lines.join(''));
    expect(buffer.bytes).toBeGreaterThan(64 * 1024);
    expect(buffer.purchases).toBe(5000);
  });
});
