import { describe, expect, it } from 'vitest';
import { Crc32cAccumulator, crc32c, maskCrc, unmaskCrc } from '../../../src/savedmodel/checkpoint/crc32c';

describe('CRC32C', () => {
  it('is Castagnoli: crc32c("123456789") = 0xE3069283', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
  });

  it('masks as TensorFlow does: float32 3.0 → 0xc382d6ef', () => {
    const bytes = new Uint8Array(new Float32Array([3.0]).buffer);
    expect(Buffer.from(bytes).toString('hex')).toBe('00004040');
    expect(maskCrc(crc32c(bytes))).toBe(0xc382d6ef);
  });

  it('unmask inverts mask, and masking changes the value', () => {
    for (const c of [0, 1, 0xffffffff, 0x80000000, 0xe3069283, 0x12345678]) {
      expect(unmaskCrc(maskCrc(c))).toBe(c);
      expect(maskCrc(c)).not.toBe(c);
    }
  });

  it('accumulates over chunks to the CRC of the whole', () => {
    const data = Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 7919) & 0xff));
    const acc = new Crc32cAccumulator();
    for (const cut of [
      [0, 1],
      [1, 333],
      [333, 334],
      [334, 1000],
    ])
      acc.update(data.subarray(cut[0], cut[1]));
    expect(acc.value()).toBe(crc32c(data));
    expect(new Crc32cAccumulator().value()).toBe(crc32c(new Uint8Array(0)));
  });
});
