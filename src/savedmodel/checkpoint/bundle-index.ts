/**
 * The bundle's `.index`: a LevelDB table whose "" key holds the
 * BundleHeaderProto and whose other keys (the tensor names) hold a
 * BundleEntryProto locating each tensor in the data file and carrying its
 * checksum — TensorFlow's reader checks dtype, shape, size and masked CRC32C
 * when it restores a tensor.
 */
import { DataType, type BundleEntryMessage, type BundleHeaderMessage } from '../messages';
import { encodeMessage, loadTensorflowProtos } from '../protos';
import type { StoredTensor } from './checkpoint-tensor';
import { TableBuilder } from './table-builder';

/** tensor_bundle.h kTensorBundleVersion (producer) and min consumer 0. */
const BUNDLE_VERSION = { producer: 1 };

/** Builds the whole .index table; `stored` must be in bytewise key order. */
export function buildBundleIndex(stored: readonly StoredTensor[]): Buffer {
  const protos = loadTensorflowProtos();
  const table = new TableBuilder();
  const header: BundleHeaderMessage = { numShards: 1, version: BUNDLE_VERSION }; // endianness LITTLE = 0, left out
  table.add(new Uint8Array(0), encodeMessage(protos.BundleHeaderProto, header));
  for (const tensor of stored) {
    const entry: BundleEntryMessage = {
      dtype: DataType.DT_FLOAT,
      shape: { dim: tensor.shape.map((size) => ({ size })) },
      size: tensor.size,
      crc32c: tensor.maskedCrc32c,
    };
    if (tensor.offset !== 0) entry.offset = tensor.offset; // proto3 default, as TF leaves it out
    table.add(Buffer.from(tensor.name, 'utf8'), encodeMessage(protos.BundleEntryProto, entry));
  }
  return table.finish();
}
