/**
 * One block of a LevelDB-format table (tsl/lib/io/block_builder.cc): entries
 * with prefix-compressed keys, and a restart point — an entry whose key is
 * stored whole — every `restartInterval` entries so a reader can binary-search
 * the block. Layout:
 *
 *   entry*  = varint32 shared, varint32 non_shared, varint32 value_len,
 *             key[shared..], value
 *   trailer = fixed32 restart_offset[num_restarts], fixed32 num_restarts
 */
import { ByteWriter } from './byte-writer';

export class BlockBuilder {
  private readonly out = new ByteWriter(4096);
  private restarts: number[] = [0];
  private counter = 0;
  private lastKey: Uint8Array = new Uint8Array(0);
  private entries = 0;

  constructor(private readonly restartInterval: number) {
    if (!Number.isInteger(restartInterval) || restartInterval < 1) {
      throw new RangeError(`restart interval must be a positive integer, got ${restartInterval}`);
    }
  }

  get empty(): boolean {
    return this.entries === 0;
  }

  /** Size of the block if finished now (what the table builder compares with its block size). */
  get sizeEstimate(): number {
    return this.out.length + this.restarts.length * 4 + 4;
  }

  /** Keys must arrive in strictly increasing bytewise order (the table builder checks). */
  add(key: Uint8Array, value: Uint8Array): void {
    let shared = 0;
    if (this.counter < this.restartInterval) {
      const limit = Math.min(this.lastKey.length, key.length);
      while (shared < limit && this.lastKey[shared] === key[shared]) shared++;
    } else {
      this.restarts.push(this.out.length);
      this.counter = 0;
    }
    this.out
      .varint(shared)
      .varint(key.length - shared)
      .varint(value.length)
      .bytes(key.subarray(shared))
      .bytes(value);
    this.lastKey = key;
    this.counter++;
    this.entries++;
  }

  /** The finished block contents (a fresh Buffer); the builder is reset for reuse. */
  finish(): Buffer {
    for (const offset of this.restarts) this.out.fixed32(offset);
    this.out.fixed32(this.restarts.length);
    const block = Buffer.from(this.out.view());
    this.out.reset();
    this.restarts = [0];
    this.counter = 0;
    this.lastKey = new Uint8Array(0);
    this.entries = 0;
    return block;
  }
}
