/**
 * One session run for one batch, whatever API it came in by (REST, gRPC,
 * warm-up): the id columns go in as int32 [n, 1] tensors, the first output
 * comes back as a flat Float32Array of n scores. TensorFlow scores a large
 * batch in one run at millions of rows a second, so callers batch.
 */
import * as tf from '@tensorflow/tfjs-node';
import type { TFSavedModel } from '@tensorflow/tfjs-node/dist/saved_model';
import { BadRequestError } from './predict-request';

export function scoreColumns(model: TFSavedModel, columns: Record<string, Int32Array>, size: number): Float32Array {
  const feeds: tf.NamedTensorMap = {};
  try {
    for (const [name, ids] of Object.entries(columns)) feeds[name] = tf.tensor2d(ids, [size, 1], 'int32');
    let out: tf.Tensor | tf.Tensor[] | tf.NamedTensorMap;
    try {
      out = model.predict(feeds);
    } catch (err) {
      // TensorFlow rejects ids beyond the embedding tables (gather's bounds
      // check: "indices[0] = 50 is not in [0, 50)"); TF Serving answers those
      // with InvalidArgument too.
      throw new BadRequestError((err as Error).message.split('\n')[0]);
    }
    const tensors = out instanceof tf.Tensor ? [out] : Array.isArray(out) ? out : Object.values(out);
    try {
      const scores = tensors[0].dataSync() as Float32Array;
      if (scores.length !== size) throw new Error(`the model returned ${scores.length} scores for ${size} rows`);
      return scores;
    } finally {
      tensors.forEach((t) => t.dispose());
    }
  } finally {
    Object.values(feeds).forEach((t) => t.dispose());
  }
}
