/**
 * An independent reader of LevelDB-format tables for the tests, written from
 * the format description (not from the writer's code): footer → index block
 * → data blocks, verifying every block's masked CRC32C.
 */
import { crc32c } from '@node-rs/crc32';

export interface TableEntry {
  key: Buffer;
  value: Buffer;
  /** bytes shared with the previous key in the block (0 at a restart point) */
  shared: number;
}

export interface TableBlock {
  offset: number;
  size: number;
  type: number;
  entries: TableEntry[];
  restarts: number[];
  /** entry offsets inside the block, to check restart positions */
  entryOffsets: number[];
  raw: Buffer;
}

export interface ParsedTable {
  footer: { metaindex: { offset: number; size: number }; index: { offset: number; size: number }; padding: Buffer; magic: Buffer };
  metaindex: TableBlock;
  index: TableBlock;
  dataBlocks: TableBlock[];
  /** all data entries in table order */
  entries: TableEntry[];
}

function readVarint(buf: Buffer, pos: number): [number, number] {
  let result = 0;
  let multiplier = 1;
  for (let i = 0; i < 10; i++) {
    const b = buf[pos + i];
    if (b === undefined) throw new Error('truncated varint');
    result += (b & 0x7f) * multiplier;
    multiplier *= 128;
    if ((b & 0x80) === 0) return [result, pos + i + 1];
  }
  throw new Error('varint too long');
}

export function mask(crc: number): number {
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

function readBlock(file: Buffer, offset: number, size: number): TableBlock {
  const raw = file.subarray(offset, offset + size);
  const type = file[offset + size];
  const stored = file.readUInt32LE(offset + size + 1);
  const actual = mask(crc32c(Buffer.from([type]), crc32c(raw)) >>> 0);
  if (stored !== actual) throw new Error(`block at ${offset}: checksum mismatch`);
  if (type !== 0) throw new Error(`block at ${offset}: compressed (type ${type})`);
  const numRestarts = raw.readUInt32LE(size - 4);
  const restartsStart = size - 4 - numRestarts * 4;
  const restarts = Array.from({ length: numRestarts }, (_, i) => raw.readUInt32LE(restartsStart + i * 4));
  const entries: TableEntry[] = [];
  const entryOffsets: number[] = [];
  let pos = 0;
  let prev = Buffer.alloc(0);
  while (pos < restartsStart) {
    entryOffsets.push(pos);
    let shared: number;
    let nonShared: number;
    let valueLength: number;
    [shared, pos] = readVarint(raw, pos);
    [nonShared, pos] = readVarint(raw, pos);
    [valueLength, pos] = readVarint(raw, pos);
    const key = Buffer.concat([prev.subarray(0, shared), raw.subarray(pos, pos + nonShared)]);
    pos += nonShared;
    const value = Buffer.from(raw.subarray(pos, pos + valueLength));
    pos += valueLength;
    entries.push({ key, value, shared });
    prev = key;
  }
  if (pos !== restartsStart) throw new Error(`block at ${offset}: entries overrun the restart array`);
  return { offset, size, type, entries, restarts, entryOffsets, raw: Buffer.from(raw) };
}

export function parseTable(file: Buffer): ParsedTable {
  if (file.length < 48) throw new Error('file shorter than a footer');
  const footerBytes = file.subarray(file.length - 48);
  const magic = footerBytes.subarray(40);
  if (!magic.equals(Buffer.from([0x57, 0xfb, 0x80, 0x8b, 0x24, 0x75, 0x47, 0xdb]))) throw new Error('bad magic');
  let pos = 0;
  const handle = (): { offset: number; size: number } => {
    let offset: number;
    let size: number;
    [offset, pos] = readVarint(footerBytes, pos);
    [size, pos] = readVarint(footerBytes, pos);
    return { offset, size };
  };
  const metaindexHandle = handle();
  const indexHandle = handle();
  const padding = Buffer.from(footerBytes.subarray(pos, 40));
  const metaindex = readBlock(file, metaindexHandle.offset, metaindexHandle.size);
  const index = readBlock(file, indexHandle.offset, indexHandle.size);
  const dataBlocks = index.entries.map((e) => {
    const [offset, next] = readVarint(e.value, 0);
    const [size] = readVarint(e.value, next);
    return readBlock(file, offset, size);
  });
  return {
    footer: { metaindex: metaindexHandle, index: indexHandle, padding, magic: Buffer.from(magic) },
    metaindex,
    index,
    dataBlocks,
    entries: dataBlocks.flatMap((b) => b.entries),
  };
}
