/**
 * Golden test vectors of every wire format in src/messaging: each case of
 * vector-cases.ts must encode to exactly the bytes of its file in ./vectors,
 * and the file must decode back to the case. The files are the reference
 * for other implementations (see vectors/README.md); a change here is a
 * change of the wire format.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { deadLetterMessage, decodeDeadLetter } from '../../src/messaging/dead-letter';
import { requestId } from '../../src/messaging/request-id';
import { decodeResult, encodeResult } from '../../src/messaging/result';
import {
  decodeDescriptor,
  decodePurchase,
  decodeRequest,
  encodeDescriptor,
  encodePurchase,
  encodeRequest,
} from '../../src/messaging/schemas';
import { DEAD_LETTERS, DESCRIPTORS, PURCHASE_DEAD_LETTERS, PURCHASES, REQUEST_IDS, REQUESTS, RESULTS } from './vector-cases';

const vector = (name: string): Buffer => fs.readFileSync(path.join(__dirname, 'vectors', name));

describe('golden wire-format vectors', () => {
  it('RecommendationRequest (protobuf): the hand-checked bytes of the small case', () => {
    // field 1 packed [17, 42], field 2 varint 3
    expect(vector('request-small.bin').toString('hex')).toBe('0a02112a1003');
  });

  for (const [name, value] of Object.entries(REQUESTS)) {
    it(`RecommendationRequest ${name}.bin`, () => {
      expect(encodeRequest(value).equals(vector(`${name}.bin`))).toBe(true);
      expect(decodeRequest(vector(`${name}.bin`))).toEqual(value);
    });
  }

  it('Purchase (protobuf): the hand-checked bytes of the small case', () => {
    // user 3; products packed [17, 42]; time_ms varint 1764316800000; id "p-1"
    expect(vector('purchase-small.bin').toString('hex')).toBe('08031202112a1880c8e7cbac332203702d31');
  });

  for (const [name, value] of Object.entries(PURCHASES)) {
    it(`Purchase ${name}.bin`, () => {
      expect(encodePurchase(value).equals(vector(`${name}.bin`))).toBe(true);
      expect(decodePurchase(vector(`${name}.bin`))).toEqual(value);
    });
  }

  for (const [name, value] of Object.entries(DESCRIPTORS)) {
    it(`ModelDescriptor ${name}.bin`, () => {
      expect(encodeDescriptor(value).equals(vector(`${name}.bin`))).toBe(true);
      expect(decodeDescriptor(vector(`${name}.bin`))).toEqual(value);
    });
  }

  for (const [name, value] of Object.entries(RESULTS)) {
    it(`result ${name}.json`, () => {
      expect(encodeResult(value).toString('utf8')).toBe(vector(`${name}.json`).toString('utf8'));
      expect(decodeResult(vector(`${name}.json`))).toEqual(value);
    });
  }

  for (const [name, value] of Object.entries({ ...DEAD_LETTERS, ...PURCHASE_DEAD_LETTERS })) {
    it(`dead letter ${name}.json`, () => {
      const message = deadLetterMessage(value, null);
      expect((message.value as Buffer).toString('utf8')).toBe(vector(`${name}.json`).toString('utf8'));
      expect(decodeDeadLetter(vector(`${name}.json`))).toEqual(value);
    });
  }

  it('request ids request-ids.txt', () => {
    const lines = vector('request-ids.txt').toString('utf8').trimEnd().split('\n');
    expect(lines).toEqual(REQUEST_IDS.map((r) => r.id));
    expect(REQUEST_IDS.map((r) => requestId(r.source))).toEqual(lines);
  });
});
