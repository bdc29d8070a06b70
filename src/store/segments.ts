/**
 * Segments of ingested purchases in the data bucket (keys: ./layout.ts).
 * A segment holds the purchases kept from one contiguous offset range of
 * one partition of the purchases topic, in offset order, as history lines
 * with three more fields: `customerId,products,timeMs,offset,id`. It is
 * named by its first offset and created only if absent; its last offset is
 * in its metadata. Consecutive segments of a partition are contiguous, so a
 * partition's segments are a chain whose end says where to resume
 * (docs/design.md, "Purchases in").
 */
import { createInterface } from 'node:readline';
import type { Client } from 'minio';
import { errorCode, listDirectories, listKeys } from '../storage/objects';
import { segmentFirstOffset, segmentKey, segmentPartitionOf, segmentPartitionPrefix, segmentsPrefix } from './layout';

export const SEGMENT_HEADER = 'customerId,products,timeMs,offset,id';

/** Object metadata (x-amz-meta-last-offset) holding a segment's last offset. */
const LAST_OFFSET_META = 'last-offset';

export interface SegmentStore {
  client: Client;
  bucket: string;
  dataPrefix: string;
  topic: string;
}

export interface SegmentLine {
  user: number;
  products: number[];
  timeMs: number;
  offset: bigint;
  id: string;
}

export interface SegmentRef {
  key: string;
  first: bigint;
}

export function formatSegmentLine(l: SegmentLine): string {
  return `${l.user},${l.products.join('|')},${l.timeMs},${l.offset},${l.id}\n`;
}

/** A segment line's fields as the data publisher holds them: numbers, the offset's decimal text, the id as ASCII bytes of `idSource`. */
export interface SegmentLineFields {
  user: number;
  products: ArrayLike<number>;
  count: number;
  timeMs: number;
  idStart: number;
  idEnd: number;
}

/** Most bytes encodeSegmentLine writes for these fields. */
export function segmentLineBound(f: SegmentLineFields, offsetText: string): number {
  // a safe integer has at most 16 digits; 4 commas, the '|'s and the newline
  return 16 * (f.count + 2) + f.count + offsetText.length + (f.idEnd - f.idStart) + 5;
}

const COMMA = 0x2c;
const BAR = 0x7c;

/** Decimal digits of 0 ≤ n < 2^31. */
function digitsOf(n: number): number {
  let digits = 1;
  for (let bound = 10; n >= bound && digits < 10; bound *= 10) digits++;
  return digits;
}

/** "00".."99" as character codes: two digits a division. */
const DIGIT_PAIRS = Uint8Array.from({ length: 200 }, (_, i) => 48 + (i % 2 ? (i >> 1) % 10 : Math.floor((i >> 1) / 10)));

/** Writes `n` (0 ≤ n < 2^31) in decimal, at least `width` digits (zero-padded), at `at`; returns the end. Integer arithmetic only. */
function writeSmall(target: Uint8Array, at: number, n: number, width: number): number {
  let x = n | 0;
  const end = at + Math.max(digitsOf(x), width);
  let p = end;
  while (x >= 100) {
    const q = (x / 100) | 0;
    const pair = (x - q * 100) << 1;
    target[--p] = DIGIT_PAIRS[pair + 1];
    target[--p] = DIGIT_PAIRS[pair];
    x = q;
  }
  if (x >= 10) {
    target[--p] = DIGIT_PAIRS[(x << 1) + 1];
    target[--p] = DIGIT_PAIRS[x << 1];
  } else target[--p] = 48 + x;
  while (p > at) target[--p] = 48;
  return end;
}

/** Writes a non-negative safe integer in decimal at `at`; returns the end. Above 2^31 as two parts below it (exact: see the correction). */
function writeDecimal(target: Uint8Array, at: number, n: number): number {
  if (n < 0x80000000) return writeSmall(target, at, n, 1);
  let high = Math.floor(n / 1e8);
  let low = n - high * 1e8; // high * 1e8 < 2^53 is exact; the quotient's rounding is off by at most one
  if (low < 0) {
    high -= 1;
    low += 1e8;
  } else if (low >= 1e8) {
    high += 1;
    low -= 1e8;
  }
  return writeSmall(target, writeSmall(target, at, high, 1), low, 8);
}

/**
 * Writes formatSegmentLine's line, byte for byte, at `at` of `target`
 * (which has segmentLineBound bytes free there) without building strings:
 * the data publisher's hot path. Returns the end.
 */
export function encodeSegmentLine(target: Uint8Array, at: number, f: SegmentLineFields, offsetText: string, idSource: Uint8Array): number {
  let p = writeDecimal(target, at, f.user);
  target[p++] = COMMA;
  for (let i = 0; i < f.count; i++) {
    if (i > 0) target[p++] = BAR;
    p = writeDecimal(target, p, f.products[i]);
  }
  target[p++] = COMMA;
  p = writeDecimal(target, p, f.timeMs);
  target[p++] = COMMA;
  for (let i = 0; i < offsetText.length; i++) target[p++] = offsetText.charCodeAt(i);
  target[p++] = COMMA;
  for (let i = f.idStart; i < f.idEnd; i++) target[p++] = idSource[i];
  target[p++] = 0x0a;
  return p;
}

const INT = /^\d+$/;

/** Parses one data line of a segment; a malformed one is an error naming the object and line (segments are only written here). */
export function parseSegmentLine(text: string, where: string): SegmentLine {
  const f = text.split(',');
  const bad = (why: string) => new Error(`${where}: ${why}: ${JSON.stringify(text.slice(0, 80))}`);
  if (f.length !== 5) throw bad(`expected 5 fields (${SEGMENT_HEADER}), got ${f.length}`);
  const products = f[1].split('|');
  if (!INT.test(f[0]) || !INT.test(f[2]) || !INT.test(f[3]) || products.some((p) => !INT.test(p)) || f[4] === '') {
    throw bad('malformed field');
  }
  return { user: Number(f[0]), products: products.map(Number), timeMs: Number(f[2]), offset: BigInt(f[3]), id: f[4] };
}

/**
 * Creates the segment of `partition` starting at `first` unless one exists
 * (`If-None-Match: *`): false when another writer created it first.
 */
export async function writeSegment(store: SegmentStore, partition: number, first: bigint, last: bigint, body: Buffer): Promise<boolean> {
  const key = segmentKey(store.dataPrefix, store.topic, partition, first);
  try {
    await store.client.putObject(store.bucket, key, body, body.length, {
      'Content-Type': 'text/csv',
      'If-None-Match': '*',
      [LAST_OFFSET_META]: last.toString(),
    });
    return true;
  } catch (error) {
    // 412: it exists; 409: a concurrent conditional write of the same key is in progress (it wins or fails, we re-read)
    if (['PreconditionFailed', 'ConditionalRequestConflict'].includes(errorCode(error) ?? '')) return false;
    throw error;
  }
}

/** The partitions that have segments. */
export async function segmentPartitions(store: SegmentStore): Promise<number[]> {
  const names = await listDirectories(store.client, store.bucket, segmentsPrefix(store.dataPrefix, store.topic));
  return names
    .map(segmentPartitionOf)
    .filter((p): p is number => p !== undefined)
    .sort((a, b) => a - b);
}

/** A partition's segments, by first offset. */
export async function listSegments(store: SegmentStore, partition: number): Promise<SegmentRef[]> {
  const keys = await listKeys(store.client, store.bucket, segmentPartitionPrefix(store.dataPrefix, store.topic, partition));
  const refs: SegmentRef[] = [];
  for (const key of keys) {
    const first = segmentFirstOffset(key);
    if (first !== undefined) refs.push({ key, first });
  }
  return refs.sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
}

export async function segmentLastOffset(store: SegmentStore, key: string): Promise<bigint> {
  const meta = (await store.client.statObject(store.bucket, key)).metaData as Record<string, string | undefined>;
  const last = meta[LAST_OFFSET_META];
  if (last === undefined || !INT.test(last)) throw new Error(`segment ${store.bucket}/${key} has no valid ${LAST_OFFSET_META} metadata`);
  return BigInt(last);
}

/** The offset after a chain of segments: where its partition resumes (0 when it has none). */
export async function chainEnd(store: SegmentStore, segments: readonly SegmentRef[]): Promise<bigint> {
  const tail = segments[segments.length - 1];
  return tail ? (await segmentLastOffset(store, tail.key)) + 1n : 0n;
}

/** The lines of one segment, checked to lie in [first, end) in increasing offset order. */
export async function* readSegmentLines(store: SegmentStore, ref: SegmentRef, end: bigint): AsyncGenerator<SegmentLine> {
  const where = `${store.bucket}/${ref.key}`;
  const lines = createInterface({ input: await store.client.getObject(store.bucket, ref.key), crlfDelay: Infinity });
  let n = 0;
  let previous = ref.first - 1n;
  try {
    for await (const text of lines) {
      n++;
      if (n === 1) {
        if (text !== SEGMENT_HEADER) throw new Error(`${where}: line 1: expected header ${SEGMENT_HEADER}`);
        continue;
      }
      const line = parseSegmentLine(text, `${where} line ${n}`);
      if (line.offset <= previous || line.offset >= end) {
        throw new Error(`${where} line ${n}: offset ${line.offset} outside the segment's range or out of order`);
      }
      previous = line.offset;
      yield line;
    }
  } finally {
    lines.close();
  }
}
