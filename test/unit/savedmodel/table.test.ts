import { describe, expect, it } from 'vitest';
import { ByteWriter } from '../../../src/savedmodel/checkpoint/byte-writer';
import { shortSuccessor, shortestSeparator } from '../../../src/savedmodel/checkpoint/key-separators';
import { TableBuilder } from '../../../src/savedmodel/checkpoint/table-builder';
import { buildBundleIndex } from '../../../src/savedmodel/checkpoint/bundle-index';
import { loadTensorflowProtos } from '../../../src/savedmodel/protos';
import { parseTable } from '../../helpers/checkpoint-table';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');
const str = (x: Uint8Array): string => Buffer.from(x).toString('latin1');

describe('varints', () => {
  it('encode as LEB128, like LevelDB PutVarint32/64', () => {
    const hex = (n: number): string => new ByteWriter().varint(n).view().toString('hex');
    expect(hex(0)).toBe('00');
    expect(hex(127)).toBe('7f');
    expect(hex(300)).toBe('ac02');
    expect(hex(2 ** 32)).toBe('8080808010');
    expect(hex(262_144)).toBe('808010');
    expect(() => new ByteWriter().varint(-1)).toThrow(RangeError);
    expect(() => new ByteWriter().varint(1.5)).toThrow(RangeError);
  });
});

describe('key shortening (bytewise comparator)', () => {
  it('finds the shortest separator between two keys', () => {
    expect(str(shortestSeparator(b('abcdefg'), b('abzzz')))).toBe('abd');
    expect(str(shortestSeparator(b('dense_1/bias'), b('dense_2/bias')))).toBe('dense_1/bias'); // '1'+1 == '2': no room
    expect(str(shortestSeparator(b('dense_1/bias'), b('dense_3')))).toBe('dense_2');
    expect(str(shortestSeparator(b('abc'), b('abcd')))).toBe('abc'); // prefix: unchanged
    expect(Buffer.from(shortestSeparator(Buffer.from([0x61, 0xff, 0x01]), Buffer.from([0x62])))).toEqual(Buffer.from([0x61, 0xff, 0x01]));
  });

  it('finds the short successor of the last key', () => {
    expect(str(shortSuccessor(b('user_embedding')))).toBe('v');
    expect(Buffer.from(shortSuccessor(Buffer.from([0xff, 0xff, 0x01, 0x05])))).toEqual(Buffer.from([0xff, 0xff, 0x02]));
    expect(Buffer.from(shortSuccessor(Buffer.from([0xff, 0xff])))).toEqual(Buffer.from([0xff, 0xff]));
    expect(shortSuccessor(new Uint8Array(0)).length).toBe(0);
  });
});

describe('TableBuilder', () => {
  it('writes data block, empty metaindex, index, 48-byte footer with the magic', () => {
    const table = new TableBuilder();
    table.add(b('apple'), b('1'));
    table.add(b('banana'), b('22'));
    const file = table.finish();
    const parsed = parseTable(file);
    expect(parsed.entries.map((e) => [str(e.key), str(e.value)])).toEqual([
      ['apple', '1'],
      ['banana', '22'],
    ]);
    expect(parsed.dataBlocks).toHaveLength(1);
    expect(parsed.dataBlocks[0].offset).toBe(0);
    // empty metaindex: no entries, one restart at 0
    expect(parsed.metaindex.raw.toString('hex')).toBe('0000000001000000');
    expect(parsed.metaindex.offset).toBe(parsed.dataBlocks[0].size + 5);
    expect(parsed.index.entries.map((e) => str(e.key))).toEqual(['c']); // successor of "banana"
    expect(parsed.footer.padding.equals(Buffer.alloc(parsed.footer.padding.length))).toBe(true);
    expect(file.subarray(file.length - 8).toString('hex')).toBe('57fb808b247547db');
    expect(parsed.footer.index.offset + parsed.footer.index.size + 5 + 48).toBe(file.length);
  });

  it('puts a restart point (whole key) every 16 entries and prefix-compresses the others', () => {
    const table = new TableBuilder();
    const keys = Array.from({ length: 40 }, (_, i) => `variable/${String(i).padStart(3, '0')}`);
    for (const k of keys) table.add(b(k), b(`v${k}`));
    const [block] = parseTable(table.finish()).dataBlocks;
    expect(block.entries.map((e) => str(e.key))).toEqual(keys);
    expect(block.restarts).toEqual([0, 16, 32].map((i) => block.entryOffsets[i]));
    block.entries.forEach((e, i) => {
      if (i % 16 === 0) expect(e.shared).toBe(0);
      else expect(e.shared).toBeGreaterThan(0);
    });
  });

  it('closes a data block once it reaches 256 KiB and indexes it with a separator key', () => {
    const table = new TableBuilder();
    const keys = Array.from({ length: 5000 }, (_, i) => `t${String(i).padStart(5, '0')}`);
    const value = Buffer.alloc(150, 7);
    for (const k of keys) table.add(b(k), value);
    const parsed = parseTable(table.finish());
    expect(parsed.dataBlocks.length).toBe(3);
    expect(parsed.entries.map((e) => str(e.key))).toEqual(keys);
    parsed.dataBlocks.forEach((block, i) => {
      const last = parsed.dataBlocks.length - 1;
      if (i < last) {
        // closed as soon as the estimate reached the limit: at least 256 KiB, and not by a whole entry more
        expect(block.size).toBeGreaterThanOrEqual(262_144);
        expect(block.size - 262_144).toBeLessThan(150 + 20);
        const indexKey = parsed.index.entries[i].key;
        expect(Buffer.compare(indexKey, block.entries.at(-1)!.key)).toBeGreaterThanOrEqual(0);
        expect(Buffer.compare(indexKey, parsed.dataBlocks[i + 1].entries[0].key)).toBeLessThan(0);
        expect(indexKey.length).toBeLessThanOrEqual(block.entries.at(-1)!.key.length);
      } else {
        expect(block.size).toBeLessThan(262_144);
        expect(str(parsed.index.entries[i].key)).toBe('u');
      }
    });
    // the index block uses restart interval 1
    expect(parsed.index.entries.every((e) => e.shared === 0)).toBe(true);
  });

  it('refuses keys that are not strictly increasing', () => {
    const table = new TableBuilder();
    table.add(b('b'), b(''));
    expect(() => table.add(b('b'), b(''))).toThrow(/strictly increasing/);
    expect(() => table.add(b('a'), b(''))).toThrow(/strictly increasing/);
    table.add(b('ba'), b(''));
    table.finish();
    expect(() => table.finish()).toThrow(/finished/);
  });
});

describe('bundle index', () => {
  it('maps "" to the BundleHeaderProto and each tensor to its BundleEntryProto', () => {
    const index = buildBundleIndex([
      { name: 'dense/bias', shape: [3], offset: 0, size: 12, maskedCrc32c: 0xc382d6ef },
      { name: 'dense/kernel', shape: [2, 3], offset: 12, size: 24, maskedCrc32c: 0x01020304 },
    ]);
    const { entries } = parseTable(index);
    expect(entries.map((e) => str(e.key))).toEqual(['', 'dense/bias', 'dense/kernel']);
    expect(entries[0].value.toString('hex')).toBe('08011a020801');
    // dtype FLOAT, shape [3], no offset (0), size 12, fixed32 crc
    expect(entries[1].value.toString('hex')).toBe('08011204120208032' + '80c35efd682c3');
    const { BundleEntryProto } = loadTensorflowProtos();
    const second = BundleEntryProto.toObject(BundleEntryProto.decode(entries[2].value), { longs: Number });
    expect(second).toEqual({ dtype: 1, shape: { dim: [{ size: 2 }, { size: 3 }] }, offset: 12, size: 24, crc32c: 0x01020304 });
  });
});
