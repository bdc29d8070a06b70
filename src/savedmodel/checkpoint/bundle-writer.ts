/**
 * Writes a TensorFlow V2 checkpoint ("tensor bundle") with one shard:
 * `<prefix>.data-00000-of-00001` and `<prefix>.index`. Data first, because
 * the index records each tensor's offset and checksum.
 */
import { writeFile } from 'node:fs/promises';
import { sortForBundle, type CheckpointTensor, type StoredTensor } from './checkpoint-tensor';
import { writeBundleData } from './data-file';
import { buildBundleIndex } from './bundle-index';
import type { WrittenFile } from '../hashing-file-writer';
import { sha256Hex } from '../../digest/sha256';

export interface TensorBundleFiles {
  index: WrittenFile;
  data: WrittenFile;
  /** in key order */
  tensors: StoredTensor[];
}

export const dataFilePath = (prefix: string): string => `${prefix}.data-00000-of-00001`;
export const indexFilePath = (prefix: string): string => `${prefix}.index`;

export async function writeTensorBundle(prefix: string, tensors: readonly CheckpointTensor[]): Promise<TensorBundleFiles> {
  const ordered = sortForBundle(tensors);
  const { file: data, stored } = await writeBundleData(dataFilePath(prefix), ordered);
  const indexBytes = buildBundleIndex(stored);
  const indexPath = indexFilePath(prefix);
  await writeFile(indexPath, indexBytes, { flag: 'wx' });
  const index: WrittenFile = {
    path: indexPath,
    bytes: indexBytes.length,
    sha256: sha256Hex(indexBytes),
  };
  return { index, data, tensors: stored };
}
