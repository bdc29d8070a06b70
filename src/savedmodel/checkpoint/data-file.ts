/**
 * The bundle's data file (`<prefix>.data-00000-of-00001`): every tensor's raw
 * little-endian bytes, concatenated in key order with no header or padding
 * (TensorFlow's BundleWriter with its default alignment of 1). Each tensor is
 * written straight from its Float32Array's memory, and its CRC32C and the
 * file's SHA-256 are computed on the same views while they are written.
 */
import { endianness } from 'node:os';
import { Crc32cAccumulator, maskCrc } from './crc32c';
import type { CheckpointTensor, StoredTensor } from './checkpoint-tensor';
import { HashingFileWriter, type WrittenFile } from '../hashing-file-writer';

/** Tensors must already be in key order (see sortForBundle). */
export async function writeBundleData(
  path: string,
  tensors: readonly CheckpointTensor[],
): Promise<{ file: WrittenFile; stored: StoredTensor[] }> {
  // A Float32Array holds host-order floats; the bundle header promises little-endian.
  if (endianness() !== 'LE') throw new Error('tensor bundles are written little-endian; this host is big-endian');
  const writer = await HashingFileWriter.create(path);
  try {
    const stored: StoredTensor[] = [];
    for (const tensor of tensors) {
      const bytes = new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength);
      const crc = new Crc32cAccumulator();
      const offset = writer.bytes;
      await writer.write(bytes, (slice) => crc.update(slice));
      stored.push({
        name: tensor.name,
        shape: tensor.shape,
        offset,
        size: bytes.byteLength,
        maskedCrc32c: maskCrc(crc.value()),
      });
    }
    return { file: await writer.close(), stored };
  } catch (error) {
    await writer.abort();
    throw error;
  }
}
