/**
 * Writes a file from a sequence of byte views and computes its SHA-256 on the
 * way, so the manifest's digests cost no second read of a 200 MB file and the
 * caller's typed arrays are written in place (no concatenation, no copies).
 */
import type { Hash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { sha256 } from '../digest/sha256';

export interface WrittenFile {
  path: string;
  bytes: number;
  /** lowercase hex */
  sha256: string;
}

/** Large views are written in slices of this size so hashing overlaps writing. */
const SLICE_BYTES = 8 * 1024 * 1024;

export class HashingFileWriter {
  private readonly hash: Hash = sha256();
  private written = 0;
  private closed = false;

  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
  ) {}

  /** Creates the file; fails if it already exists (an export never overwrites). */
  static async create(path: string): Promise<HashingFileWriter> {
    return new HashingFileWriter(path, await open(path, 'wx'));
  }

  get bytes(): number {
    return this.written;
  }

  /**
   * Appends `data`. `onSlice` sees each slice (the bundle writer computes its
   * CRC there); hashing runs on this thread while the slice's write runs on
   * libuv's thread pool — both only read the bytes.
   */
  async write(data: Uint8Array, onSlice?: (slice: Uint8Array) => void): Promise<void> {
    if (this.closed) throw new Error(`${this.path}: already closed`);
    for (let start = 0; start < data.byteLength; start += SLICE_BYTES) {
      const slice = data.subarray(start, Math.min(start + SLICE_BYTES, data.byteLength));
      const writing = this.writeFully(slice);
      try {
        this.hash.update(slice);
        onSlice?.(slice);
      } finally {
        await writing;
      }
    }
    this.written += data.byteLength;
  }

  private async writeFully(slice: Uint8Array): Promise<void> {
    let offset = 0;
    while (offset < slice.byteLength) {
      const { bytesWritten } = await this.handle.write(slice, offset, slice.byteLength - offset);
      if (bytesWritten <= 0) throw new Error(`${this.path}: write made no progress`);
      offset += bytesWritten;
    }
  }

  async close(): Promise<WrittenFile> {
    if (this.closed) throw new Error(`${this.path}: already closed`);
    this.closed = true;
    await this.handle.close();
    return { path: this.path, bytes: this.written, sha256: this.hash.digest('hex') };
  }

  /** Closes without a digest, for error paths. */
  async abort(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.handle.close();
  }
}
