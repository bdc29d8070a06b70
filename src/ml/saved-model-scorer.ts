/**
 * Scores customers × the whole catalogue through an exported SavedModel,
 * loaded by TensorFlow's own loader (tfjs-node's C API binding): what the
 * quality benchmark and the gate's same-split comparison measure, rather
 * than the model in memory.
 */
import * as tf from '@tensorflow/tfjs-node';
import type { TFSavedModel } from '@tensorflow/tfjs-node/dist/saved_model';

export class SavedModelScorer {
  private constructor(
    private readonly model: TFSavedModel,
    readonly productRows: number,
  ) {}

  static async load(dir: string, productRows: number): Promise<SavedModelScorer> {
    return new SavedModelScorer(await tf.node.loadSavedModel(dir, ['serve'], 'serving_default'), productRows);
  }

  /** Row-major [users.length, productRows] predictions for every (customer, product) pair. */
  score(users: Int32Array): Float32Array {
    const P = this.productRows;
    const u = new Int32Array(users.length * P);
    const p = new Int32Array(users.length * P);
    for (let i = 0; i < users.length; i++) {
      u.fill(users[i], i * P, (i + 1) * P);
      for (let j = 0; j < P; j++) p[i * P + j] = j;
    }
    return tf.tidy(() => {
      const out = this.model.predict({ users: tf.tensor2d(u, [u.length, 1], 'int32'), products: tf.tensor2d(p, [p.length, 1], 'int32') });
      const tensor = out instanceof tf.Tensor ? out : Array.isArray(out) ? undefined : out['predictions'];
      if (!(tensor instanceof tf.Tensor)) throw new Error('SavedModel has no `predictions` output');
      return tensor.dataSync() as Float32Array;
    });
  }

  dispose(): void {
    this.model.dispose();
  }
}
