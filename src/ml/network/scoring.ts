import * as tf from '@tensorflow/tfjs-node';
import { LAYER_NAMES } from './model';

/** Floats per intermediate [users, products, hidden] tensor while scoring (~16 MB). */
const SCORE_BUDGET = 4 * 1024 * 1024;

/**
 * Scores every product for a batch of customers with a few tensor ops instead
 * of one network call per (customer, product). dense_1 acts on the
 * concatenation [user, product], so its pre-activation splits into a user
 * part and a product part:
 *   h = relu(user·W[:D] + product·W[D:] + b1),  logit = h·w2 + b2.
 * The product part is computed once for the whole catalogue; per chunk of
 * customers only a broadcast add, a ReLU and one matmul remain. Dropout is
 * inactive at inference, so this equals model.predict (before the output
 * activation, which is monotonic and irrelevant to ranking).
 */
export class CatalogueScorer {
  readonly productRows: number;
  private readonly userTable: tf.Tensor2D;
  private readonly userKernel: tf.Tensor2D;
  private readonly productPart: tf.Tensor2D;
  private readonly outputKernel: tf.Tensor2D;
  private readonly outputBias: tf.Tensor1D;
  private readonly sigmoid: boolean;
  private disposed = false;

  constructor(model: tf.LayersModel) {
    const [userTable] = model.getLayer(LAYER_NAMES.userEmbedding).getWeights();
    const [productTable] = model.getLayer(LAYER_NAMES.productEmbedding).getWeights();
    const [kernel, bias] = model.getLayer(LAYER_NAMES.hidden).getWeights();
    const [outKernel, outBias] = model.getLayer(LAYER_NAMES.output).getWeights();
    const dim = userTable.shape[1] as number;
    this.productRows = productTable.shape[0];
    // The model's variables are borrowed (not disposed here); the derived tensors below are owned.
    this.userTable = userTable as tf.Tensor2D;
    this.outputKernel = outKernel as tf.Tensor2D;
    this.outputBias = outBias as tf.Tensor1D;
    this.userKernel = tf.slice(kernel, [0, 0], [dim, -1]) as tf.Tensor2D;
    this.productPart = tf.tidy(() =>
      tf.add(tf.matMul(productTable as tf.Tensor2D, tf.slice(kernel, [dim, 0], [-1, -1]) as tf.Tensor2D), bias),
    ) as tf.Tensor2D;
    this.sigmoid = model.getLayer(LAYER_NAMES.output).getConfig()['activation'] === 'sigmoid';
  }

  /** How many customers to score per call to stay within the memory budget. */
  get usersPerChunk(): number {
    return Math.max(1, Math.floor(SCORE_BUDGET / (this.productRows * this.productPart.shape[1])));
  }

  /**
   * Scores of all products for each customer: row-major [users.length, productRows].
   * Logits by default; with `withActivation`, the model's own output (e.g. sigmoid probabilities).
   */
  score(users: Int32Array, withActivation = false): Float32Array {
    if (this.disposed) throw new Error('CatalogueScorer used after dispose()');
    const c = users.length;
    const P = this.productRows;
    const H = this.productPart.shape[1];
    const result = tf.tidy(() => {
      const userPart = tf.matMul(tf.gather(this.userTable, tf.tensor1d(users, 'int32')), this.userKernel); // [c, H]
      const hidden = tf.relu(tf.add(tf.expandDims(userPart, 1), tf.expandDims(this.productPart, 0))); // [c, P, H]
      const logits = tf.add(tf.matMul(tf.reshape(hidden, [c * P, H]), this.outputKernel), this.outputBias); // [c*P, 1]
      return withActivation && this.sigmoid ? tf.sigmoid(logits) : logits;
    });
    try {
      return result.dataSync() as Float32Array;
    } finally {
      result.dispose();
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.userKernel.dispose();
    this.productPart.dispose();
  }
}

/** model.predict over (user, product) pairs in chunks, returning a flat Float32Array. */
export function predictPairs(model: tf.LayersModel, users: Int32Array, products: Int32Array, chunk = 65_536): Float32Array {
  const out = new Float32Array(users.length);
  for (let from = 0; from < users.length; from += chunk) {
    const to = Math.min(users.length, from + chunk);
    const n = to - from;
    const prediction = tf.tidy(() => {
      const result = model.predict(
        [tf.tensor2d(users.subarray(from, to), [n, 1], 'int32'), tf.tensor2d(products.subarray(from, to), [n, 1], 'int32')],
        {
          batchSize: chunk,
        },
      );
      return Array.isArray(result) ? result[0] : result;
    });
    try {
      out.set(prediction.dataSync() as Float32Array, from);
    } finally {
      prediction.dispose();
    }
  }
  return out;
}
