/**
 * Scores customers × the whole catalogue through an exported SavedModel,
 * loaded by TensorFlow's own loader (tfjs-node's C API binding): what the
 * quality benchmark and the gate's same-split comparison measure, rather
 * than the model in memory.
 */
import * as tf from '@tensorflow/tfjs-node';
import type { TFSavedModel } from '@tensorflow/tfjs-node/dist/saved_model';
import { PREDICTIONS_OUTPUT, SERVE_TAG, SIGNATURE_NAME } from '../savedmodel/serving-contract';

export class SavedModelScorer {
  /** 0..P−1 repeated once per customer of the largest call so far; a call takes a prefix */
  private productIds = new Int32Array(0);

  private constructor(
    private readonly model: TFSavedModel,
    readonly productRows: number,
  ) {}

  static async load(dir: string, productRows: number): Promise<SavedModelScorer> {
    return new SavedModelScorer(await tf.node.loadSavedModel(dir, [SERVE_TAG], SIGNATURE_NAME), productRows);
  }

  /** Row-major [users.length, productRows] predictions for every (customer, product) pair. */
  score(users: Int32Array): Float32Array {
    const P = this.productRows;
    const n = users.length * P;
    const u = new Int32Array(n);
    for (let i = 0; i < users.length; i++) u.fill(users[i], i * P, (i + 1) * P);
    const usersTensor = tf.tensor2d(u, [n, 1], 'int32');
    const productsTensor = tf.tensor2d(this.productIdsFor(users.length), [n, 1], 'int32');
    let out: tf.Tensor | tf.Tensor[] | tf.NamedTensorMap | undefined;
    try {
      out = this.model.predict({ users: usersTensor, products: productsTensor });
      const tensor = out instanceof tf.Tensor ? out : Array.isArray(out) ? undefined : out[PREDICTIONS_OUTPUT];
      if (!(tensor instanceof tf.Tensor)) throw new Error('SavedModel has no `predictions` output');
      // read outside tf.tidy: tidy walks a returned typed array element by
      // element looking for tensors, which cost ~3× the predict itself
      return tensor.dataSync() as Float32Array;
    } finally {
      usersTensor.dispose();
      productsTensor.dispose();
      if (out) tf.dispose(out);
    }
  }

  private productIdsFor(users: number): Int32Array {
    const P = this.productRows;
    if (this.productIds.length < users * P) {
      const ids = new Int32Array(users * P);
      for (let j = 0; j < P; j++) ids[j] = j;
      for (let filled = P; filled < ids.length; filled *= 2) ids.copyWithin(filled, 0, Math.min(filled, ids.length - filled));
      this.productIds = ids;
    }
    return this.productIds.subarray(0, users * P);
  }

  dispose(): void {
    this.model.dispose();
  }
}
