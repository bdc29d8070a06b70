import { describe, expect, it } from 'vitest';
import { DecodeError, decodeDescriptor, decodeRequest, encodeDescriptor, encodeRequest } from '../../src/messaging/schemas';

describe('Kafka wire formats', () => {
  it('round-trips a RecommendationRequest', () => {
    expect(decodeRequest(encodeRequest({ user: 42, products: [0, 5, 299] }))).toEqual({ user: 42, products: [0, 5, 299] });
  });

  it('encodes field numbers as the seed does (products = 1 packed, user = 2)', () => {
    // proto3 packs repeated int64: tag 0x0a, length 2, values 1 and 2; then tag 0x10 user=3
    expect(encodeRequest({ user: 3, products: [1, 2] }).toString('hex')).toBe('0a0201021003');
  });

  it('round-trips a ModelDescriptor', () => {
    const d = { name: 'recommender1', description: 'version 7', url: 'http://127.0.0.1:8502/v1/models/recommender1/versions/7:predict' };
    expect(decodeDescriptor(encodeDescriptor(d))).toEqual(d);
  });

  it('rejects bytes that are not a request with a DecodeError', () => {
    expect(() => decodeRequest(Buffer.from([0x0a, 0xff, 0xff, 0xff]))).toThrowError(DecodeError);
  });

  it('rejects ids that do not fit a JavaScript number exactly', () => {
    // user = 2^62 as a varint
    const bytes = Buffer.from('10' + '8080808080808080' + '40', 'hex');
    expect(() => decodeRequest(bytes)).toThrowError(/user: .* is not a safe integer/);
  });
});
