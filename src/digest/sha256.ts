/**
 * The one SHA-256 of the project: every digest that names data (purchase
 * history, SavedModel files, candidate weights, lineage) is lowercase hex
 * SHA-256 made here, one-shot or as a stream passes by.
 */
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

/** An incremental SHA-256, for writers that hash what they write in slices. */
export function sha256(): Hash {
  return createHash('sha256');
}

export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * A pass-through stream that hashes and counts what flows through it; read
 * `digest()` and `bytes` once the stream has ended.
 */
export class Sha256Tap extends Transform {
  private readonly hash: Hash = sha256();
  bytes = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    callback(null, chunk);
  }

  /** The hex digest of everything that passed (call once, after the end). */
  digest(): string {
    return this.hash.digest('hex');
  }
}
