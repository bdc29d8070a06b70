/**
 * A variable's value as the checkpoint stores it. Only float32 is needed by
 * the recommender (every weight is float32), so only float32 is supported.
 */
export interface CheckpointTensor {
  /** checkpoint key; non-empty ("" is the bundle header's key) */
  name: string;
  shape: readonly number[];
  /** row-major, length = product of shape; written in place, never copied */
  data: Float32Array;
}

/** Masked CRC32C, offset and size of one tensor inside the data file. */
export interface StoredTensor {
  name: string;
  shape: readonly number[];
  offset: number;
  size: number;
  maskedCrc32c: number;
}

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}

/** Checks the tensors and returns them in bundle key order (bytewise, as the .index requires). */
export function sortForBundle(tensors: readonly CheckpointTensor[]): CheckpointTensor[] {
  const seen = new Set<string>();
  for (const t of tensors) {
    if (t.name === '') throw new Error('a checkpoint tensor needs a non-empty name ("" is the header key)');
    if (seen.has(t.name)) throw new Error(`duplicate checkpoint tensor name ${JSON.stringify(t.name)}`);
    seen.add(t.name);
    if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new Error(`${t.name}: shape ${JSON.stringify(t.shape)} must be non-negative integers`);
    }
    if (elementCount(t.shape) !== t.data.length) {
      throw new Error(`${t.name}: shape ${JSON.stringify(t.shape)} needs ${elementCount(t.shape)} values, got ${t.data.length}`);
    }
  }
  return [...tensors].sort((a, b) => Buffer.compare(Buffer.from(a.name, 'utf8'), Buffer.from(b.name, 'utf8')));
}
