/**
 * The data publisher's allocation-free reader of Purchase bytes against
 * protobufjs (decodePurchase): on every record it reads, both give the same
 * purchase; it reads the canonical encoding (the golden vectors, anything
 * encodePurchase writes within its range); everything else it declines, and
 * decodePurchase decides it as before. Hostile bytes are generated from a
 * fixed seed, so a failure reproduces.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Random } from '../../src/ml/random';
import { ScannedPurchase } from '../../src/messaging/purchase-scan';
import { decodePurchase, encodePurchase, type Purchase } from '../../src/messaging/schemas';
import { PURCHASES } from './vector-cases';

/** A seeded stream in [0, 1) (the project's generator). */
function random(seed: number): () => number {
  const r = new Random(seed);
  return () => r.next();
}

/** What the scan read, as decodePurchase's Purchase. */
function scanned(s: ScannedPurchase, bytes: Uint8Array): Purchase {
  const id = Buffer.from(bytes.subarray(s.idStart, s.idEnd)).toString('latin1');
  return { user: s.user, products: Array.from(s.products.subarray(0, s.count)), timeMs: s.timeMs, id };
}

/** The scan's contract on `bytes`: when it reads them, decodePurchase decodes them to the same purchase. */
function agrees(s: ScannedPurchase, bytes: Uint8Array): boolean {
  if (!s.scan(bytes)) return false;
  expect(scanned(s, bytes)).toEqual(decodePurchase(bytes));
  return true;
}

const rng = random(22);
const int = (max: number) => Math.floor(rng() * max);
const bigId = () => [int(10), int(1000), int(2 ** 31), int(2 ** 53)][int(4)];
const idText = () => Array.from({ length: int(20) }, () => String.fromCharCode(0x20 + int(0x5f))).join('');
const purchase = (): Purchase => ({
  user: bigId(),
  products: Array.from({ length: int(6) }, bigId),
  timeMs: [0, 1, 1_764_316_800_000, Number.MAX_SAFE_INTEGER][int(4)],
  id: idText(),
});

describe('ScannedPurchase (the publisher reads Purchase bytes without protobufjs)', () => {
  it('reads the golden vectors as decodePurchase does', () => {
    const s = new ScannedPurchase(1000);
    for (const name of Object.keys(PURCHASES)) {
      const bytes = readFileSync(path.join(__dirname, 'vectors', `${name}.bin`));
      expect(agrees(s, bytes)).toBe(true);
      expect(scanned(s, bytes)).toEqual(PURCHASES[name]);
    }
  });

  it('reads whatever encodePurchase writes with ids below 2^53 and an ASCII id', () => {
    const s = new ScannedPurchase(1000);
    for (let i = 0; i < 5000; i++) expect(agrees(s, encodePurchase(purchase()))).toBe(true);
  });

  it('reads the non-default encodings protobuf merges: unpacked and split products, repeated scalars, long varints', () => {
    const s = new ScannedPurchase(1000);
    const cases = [
      '0803100510061801220178', // products unpacked
      '0803120105120106180122017a', // products in two packed runs
      '080308091201051803180422017822017a', // user and time twice, id twice: the last wins
      '088380001201051801220178', // a non-minimal varint (3 bytes for 3)
      '08ffffffffffffff0f1201051801220178', // 2^53 - 1 in 8 bytes
      '080312001801220178', // an empty packed run
    ];
    for (const hex of cases) expect(agrees(s, Buffer.from(hex, 'hex')), hex).toBe(true);
  });

  it('declines what it cannot read exactly, which decodePurchase then decides', () => {
    const s = new ScannedPurchase(3);
    const cases: [string, string][] = [
      ['negative user (a 10-byte varint)', encodePurchase({ user: -1, products: [1], timeMs: 1, id: 'a' }).toString('hex')],
      ['2^53 in 8 bytes', '0880808080808080101201051801220178'],
      ['a 9-byte varint', '08808080808080808001'],
      ['an unknown field', '080312010518012201782801'],
      ['user with the wrong wire type', '0a0103'],
      ['truncated id', '0803220578'],
      ['truncated varint', '0880'],
      ['a varint across the end of its packed run', '0803120180'],
      ['a non-ASCII id', '080312010518012202c3a9'],
      ['more products than it holds', '0803120401020304'],
    ];
    for (const [why, hex] of cases) expect(s.scan(Buffer.from(hex, 'hex')), why).toBe(false);
  });

  it('on hostile bytes (random, truncated, bit-flipped, with junk appended) reads only what decodePurchase decodes the same', () => {
    const s = new ScannedPurchase(1000);
    let read = 0;
    for (let i = 0; i < 20_000; i++) {
      let bytes: Buffer = encodePurchase(purchase());
      const kind = int(4);
      if (kind === 0) bytes = Buffer.from(Array.from({ length: int(40) }, () => int(256)));
      else if (kind === 1) bytes = bytes.subarray(0, int(bytes.length + 1));
      else if (kind === 2 && bytes.length > 0) bytes[int(bytes.length)] ^= 1 << int(8);
      else bytes = Buffer.concat([bytes, Buffer.from(Array.from({ length: 1 + int(4) }, () => int(256)))]);
      if (agrees(s, bytes)) read++;
    }
    expect(read).toBeGreaterThan(1000); // the generator reaches both sides of the contract
  });
});
