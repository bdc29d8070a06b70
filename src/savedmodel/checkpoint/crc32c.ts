/**
 * CRC32C (Castagnoli) as LevelDB tables and TensorFlow tensor bundles use it,
 * including their "masked" form. Masking exists because a CRC stored next to
 * the data it covers makes a CRC of CRCs degenerate; TF/LevelDB store
 * rotate-and-add masked values everywhere a checksum is persisted.
 */
import { crc32c as nativeCrc32c } from '@node-rs/crc32';

const MASK_DELTA = 0xa282ead8;

/** CRC32C of `bytes`, continuing from `previous` (the CRC of the bytes before; 0 = start). */
export function crc32c(bytes: Uint8Array, previous?: number): number {
  return nativeCrc32c(bytes, previous) >>> 0;
}

/** LevelDB's mask: rotate right by 15 bits, add a constant (mod 2^32). */
export function maskCrc(crc: number): number {
  const rotated = ((crc >>> 15) | (crc << 17)) >>> 0;
  return (rotated + MASK_DELTA) >>> 0;
}

export function unmaskCrc(masked: number): number {
  const rotated = (masked - MASK_DELTA) >>> 0;
  return ((rotated >>> 17) | (rotated << 15)) >>> 0;
}

/** Running CRC32C over a sequence of chunks; no chunk is copied. */
export class Crc32cAccumulator {
  private crc = 0;

  update(bytes: Uint8Array): void {
    this.crc = crc32c(bytes, this.crc);
  }

  /** CRC32C of everything passed to update (0 for nothing, as for an empty input). */
  value(): number {
    return this.crc;
  }
}
