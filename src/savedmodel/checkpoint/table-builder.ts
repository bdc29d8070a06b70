/**
 * Writes a LevelDB-format sorted table the way TensorFlow's tsl TableBuilder
 * does (tsl/lib/io/table_builder.cc, format.cc), uncompressed and without a
 * filter block — the format of a tensor bundle's `.index` file:
 *
 *   data block*        each followed by a 5-byte trailer
 *   metaindex block    empty
 *   index block        one entry per data block → BlockHandle
 *   footer (48 bytes)  metaindex handle, index handle, zero padding, magic
 *
 * Trailer: 1 type byte (0 = uncompressed) + fixed32 masked CRC32C over the
 * block contents and the type byte. The table is assembled in memory: an
 * index holds one small entry per tensor, never tensor bytes.
 */
import { ByteWriter } from './byte-writer';
import { BlockBuilder } from './block-builder';
import { crc32c, maskCrc } from './crc32c';
import { compareBytes, shortSuccessor, shortestSeparator } from './key-separators';

/** tsl::table::Options::block_size: a data block is closed once it reaches this size. */
export const DEFAULT_BLOCK_SIZE = 262_144;
/** tsl::table::Options::block_restart_interval. */
export const DEFAULT_RESTART_INTERVAL = 16;
export const TABLE_MAGIC_LOW = 0x8b80fb57;
export const TABLE_MAGIC_HIGH = 0xdb477524;
export const FOOTER_LENGTH = 48;
const BLOCK_HANDLE_MAX_LENGTH = 20; // two varint64s
const UNCOMPRESSED = 0;

export interface BlockHandle {
  offset: number;
  size: number;
}

export interface TableBuilderOptions {
  blockSize?: number;
  restartInterval?: number;
}

export class TableBuilder {
  private readonly out = new ByteWriter(64 * 1024);
  private readonly blockSize: number;
  private readonly dataBlock: BlockBuilder;
  private readonly indexBlock = new BlockBuilder(1); // index: every entry is a restart point
  private lastKey: Uint8Array | undefined;
  /** A flushed data block whose index entry waits for the next key (to pick a short separator). */
  private pendingHandle: BlockHandle | undefined;
  private finished = false;

  constructor(options: TableBuilderOptions = {}) {
    this.blockSize = options.blockSize ?? DEFAULT_BLOCK_SIZE;
    this.dataBlock = new BlockBuilder(options.restartInterval ?? DEFAULT_RESTART_INTERVAL);
  }

  /** Adds an entry; keys must be strictly increasing bytewise. */
  add(key: Uint8Array, value: Uint8Array): void {
    if (this.finished) throw new Error('table already finished');
    if (this.lastKey !== undefined && compareBytes(key, this.lastKey) <= 0) {
      throw new Error(
        `table keys must be strictly increasing: ${JSON.stringify(Buffer.from(key).toString('latin1'))} ` +
          `after ${JSON.stringify(Buffer.from(this.lastKey).toString('latin1'))}`,
      );
    }
    if (this.pendingHandle !== undefined && this.lastKey !== undefined) {
      this.indexBlock.add(shortestSeparator(this.lastKey, key), encodeHandle(this.pendingHandle));
      this.pendingHandle = undefined;
    }
    const ownKey = Uint8Array.from(key);
    this.lastKey = ownKey;
    this.dataBlock.add(ownKey, value);
    if (this.dataBlock.sizeEstimate >= this.blockSize) this.flush();
  }

  /** Writes the remaining blocks and the footer; returns the whole table. */
  finish(): Buffer {
    if (this.finished) throw new Error('table already finished');
    this.finished = true;
    this.flush();
    const metaindexHandle = this.writeBlock(new BlockBuilder(DEFAULT_RESTART_INTERVAL).finish());
    if (this.pendingHandle !== undefined && this.lastKey !== undefined) {
      this.indexBlock.add(shortSuccessor(this.lastKey), encodeHandle(this.pendingHandle));
      this.pendingHandle = undefined;
    }
    const indexHandle = this.writeBlock(this.indexBlock.finish());
    this.out.bytes(encodeFooter(metaindexHandle, indexHandle));
    return Buffer.from(this.out.view());
  }

  private flush(): void {
    if (this.dataBlock.empty) return;
    this.pendingHandle = this.writeBlock(this.dataBlock.finish());
  }

  private writeBlock(contents: Buffer): BlockHandle {
    const handle = { offset: this.out.length, size: contents.length };
    const type = Uint8Array.of(UNCOMPRESSED);
    const crc = crc32c(type, crc32c(contents));
    this.out.bytes(contents).bytes(type).fixed32(maskCrc(crc));
    return handle;
  }
}

export function encodeHandle(handle: BlockHandle): Buffer {
  return Buffer.from(new ByteWriter(BLOCK_HANDLE_MAX_LENGTH).varint(handle.offset).varint(handle.size).view());
}

export function encodeFooter(metaindex: BlockHandle, index: BlockHandle): Buffer {
  const footer = Buffer.alloc(FOOTER_LENGTH); // zero padding after the handles
  const handles = Buffer.concat([encodeHandle(metaindex), encodeHandle(index)]);
  handles.copy(footer, 0);
  footer.writeUInt32LE(TABLE_MAGIC_LOW, 2 * BLOCK_HANDLE_MAX_LENGTH);
  footer.writeUInt32LE(TABLE_MAGIC_HIGH, 2 * BLOCK_HANDLE_MAX_LENGTH + 4);
  return footer;
}
