import * as tf from '@tensorflow/tfjs-node';
import { AdamParameter, RowGradients } from './lazy-adam';
import { LAYER_NAMES } from './model';
import type { OutputActivation } from './network-weights';
import type { Random } from '../random';

export type NetworkLoss = 'meanSquaredLogarithmicError' | 'binaryCrossentropy';

export interface SparseStepConfig {
  learningRate: number;
  dropout: number;
  loss: NetworkLoss;
  outputActivation: OutputActivation;
  /** largest batch that step() will be given */
  maxBatch: number;
}

/** tfjs-layers' (and Keras') fuzz factor: MSLE clips predictions and labels to it. */
const EPSILON = 1e-7;
/** examples per forward pass when computing a loss without training */
const EVAL_CHUNK = 8192;

/**
 * Trains the network built by buildNetwork (src/ml/network/model.ts) one batch at a
 * time without differentiating through the embedding lookups.
 *
 * The parameters live here as Float32Arrays (copied out of the model once):
 * a batch's embedding rows are gathered on the JS side into one
 * [batch, 2·dim] input; the native backend computes the loss and, by tfjs'
 * autodiff, its gradients with respect to that input and the dense layers;
 * Adam (src/ml/network/lazy-adam.ts) then updates the dense layers and only the
 * embedding rows the batch touched, with dense Adam's semantics (the
 * zero-gradient updates of the other rows are deferred until they are next
 * touched or read). A step therefore costs O(batch), whatever the table
 * sizes. The forward pass is the model's own: concatenate (user first),
 * dropout, dense_1 ReLU, dropout, dense_2 with the output activation, and
 * the loss model.compile would use. Dropout masks come from the given
 * seeded PRNG, so a run is reproducible.
 *
 * The model's variables are stale until writeBack().
 */
export class SparseTrainingStep {
  private readonly users: AdamParameter;
  private readonly products: AdamParameter;
  private readonly userGradients: RowGradients;
  private readonly productGradients: RowGradients;
  /** dense_1 kernel [2·dim, hidden] and bias, dense_2 kernel [hidden, 1] and bias */
  private readonly dense: { layer: string; kernel: AdamParameter; bias: AdamParameter }[];
  private readonly dim: number;
  private readonly userRows: number;
  private readonly productRows: number;
  private readonly hiddenUnits: number;
  private steps = 0;

  constructor(
    private readonly model: tf.LayersModel,
    private readonly config: SparseStepConfig,
    private readonly rng: Random,
  ) {
    const adam = { learningRate: config.learningRate };
    const [userTable] = weightsOf(model, LAYER_NAMES.userEmbedding);
    const [productTable] = weightsOf(model, LAYER_NAMES.productEmbedding);
    if (userTable.shape[1] !== productTable.shape[1])
      throw new Error(`embedding widths differ: users ${userTable.shape[1]}, products ${productTable.shape[1]}`);
    [this.userRows, this.dim] = userTable.shape;
    this.productRows = productTable.shape[0];
    this.users = new AdamParameter(userTable.values, adam, this.dim);
    this.products = new AdamParameter(productTable.values, adam, this.dim);
    this.userGradients = new RowGradients(this.userRows, this.dim, config.maxBatch);
    this.productGradients = new RowGradients(this.productRows, this.dim, config.maxBatch);
    this.dense = [LAYER_NAMES.hidden, LAYER_NAMES.output].map((layer) => {
      const [kernel, bias] = weightsOf(model, layer);
      return { layer, kernel: new AdamParameter(kernel.values, adam), bias: new AdamParameter(bias.values, adam) };
    });
    this.hiddenUnits = this.dense[0].bias.values.length;
    if (this.dense[0].kernel.values.length !== 2 * this.dim * this.hiddenUnits)
      throw new Error(`${LAYER_NAMES.hidden} does not take the two ${this.dim}-wide embeddings`);
  }

  /** One optimizer step on examples [start, end) of the arrays; returns the batch's mean loss (dropout on, before the step). */
  step(users: Int32Array, products: Int32Array, labels: Float32Array, start: number, end: number): number {
    const b = end - start;
    if (b <= 0 || b > this.config.maxBatch) throw new Error(`batch of ${b} examples (at most ${this.config.maxBatch})`);
    const D = this.dim;
    const x = this.gather(users, products, start, end, this.steps);
    const inputMask = this.dropoutMask(b * 2 * D);
    const hiddenMask = this.dropoutMask(b * this.hiddenUnits);
    const results = tf.tidy(() => {
      const masks = { input: tf.tensor2d(inputMask, [b, 2 * D]), hidden: tf.tensor2d(hiddenMask, [b, this.hiddenUnits]) };
      const target = this.targets(labels, start, end);
      const lossOf = (input: tf.Tensor, k1: tf.Tensor, b1: tf.Tensor, k2: tf.Tensor, b2: tf.Tensor): tf.Scalar =>
        this.meanLoss(this.forward(input, k1, b1, k2, b2, masks), target);
      const { value, grads } = tf.valueAndGrads(lossOf)([tf.tensor2d(x, [b, 2 * D]), ...this.denseTensors()]);
      return [value, ...grads];
    });
    try {
      const [loss, inputGradient, ...denseGradients] = results.map((t) => t.dataSync() as Float32Array);
      this.steps++;
      this.dense.forEach((p, i) => {
        p.kernel.apply(denseGradients[2 * i], this.steps);
        p.bias.apply(denseGradients[2 * i + 1], this.steps);
      });
      for (let i = 0; i < b; i++) {
        this.userGradients.add(users[start + i], inputGradient, i * 2 * D);
        this.productGradients.add(products[start + i], inputGradient, i * 2 * D + D);
      }
      this.users.applyRows(this.userGradients, this.steps);
      this.products.applyRows(this.productGradients, this.steps);
      return loss[0] ?? NaN;
    } finally {
      this.userGradients.clear();
      this.productGradients.clear();
      results.forEach((t) => t.dispose());
    }
  }

  /** Mean loss over the examples without dropout (what Keras reports as val_loss). */
  evaluate(users: Int32Array, products: Int32Array, labels: Float32Array): number {
    let sum = 0;
    for (let start = 0; start < users.length; start += EVAL_CHUNK) {
      const end = Math.min(users.length, start + EVAL_CHUNK);
      const x = this.gather(users, products, start, end, this.steps);
      const chunkLoss = tf.tidy(() => {
        const [k1, b1, k2, b2] = this.denseTensors();
        const input = tf.tensor2d(x, [end - start, 2 * this.dim]);
        return this.meanLoss(this.forward(input, k1, b1, k2, b2, undefined), this.targets(labels, start, end));
      });
      sum += (chunkLoss.dataSync()[0] ?? NaN) * (end - start);
      chunkLoss.dispose();
    }
    return users.length > 0 ? sum / users.length : NaN;
  }

  /** Copies the trained parameters into the model's layers (then the model alone is the trained network). */
  writeBack(): void {
    this.catchUp();
    const layers: [string, { shape: number[]; values: Float32Array }[]][] = [
      [LAYER_NAMES.userEmbedding, [{ shape: [this.userRows, this.dim], values: this.users.values }]],
      [LAYER_NAMES.productEmbedding, [{ shape: [this.productRows, this.dim], values: this.products.values }]],
      ...this.dense.map((p, i): [string, { shape: number[]; values: Float32Array }[]] => [
        p.layer,
        [
          { shape: [i === 0 ? 2 * this.dim : this.hiddenUnits, i === 0 ? this.hiddenUnits : 1], values: p.kernel.values },
          { shape: [i === 0 ? this.hiddenUnits : 1], values: p.bias.values },
        ],
      ]),
    ];
    for (const [name, weights] of layers) {
      const tensors = weights.map((w) => tf.tensor(w.values.slice(), w.shape));
      try {
        this.model.getLayer(name).setWeights(tensors);
      } finally {
        tensors.forEach((t) => t.dispose()); // the variables keep their own reference to the data
      }
    }
  }

  /** Applies the deferred zero-gradient updates of rows that no batch touched since (see lazy-adam.ts). */
  private catchUp(): void {
    this.users.catchUpAll(this.steps);
    this.products.catchUpAll(this.steps);
  }

  /** The dense layers' current values as fresh tensors (the caller's tidy disposes them). */
  private denseTensors(): tf.Tensor[] {
    const H = this.hiddenUnits;
    const [hidden, output] = this.dense;
    return [
      tf.tensor2d(hidden.kernel.values.slice(), [2 * this.dim, H]),
      tf.tensor1d(hidden.bias.values.slice()),
      tf.tensor2d(output.kernel.values.slice(), [H, 1]),
      tf.tensor1d(output.bias.values.slice()),
    ];
  }

  private forward(
    x: tf.Tensor,
    k1: tf.Tensor,
    b1: tf.Tensor,
    k2: tf.Tensor,
    b2: tf.Tensor,
    masks: { input: tf.Tensor; hidden: tf.Tensor } | undefined,
  ): tf.Tensor {
    const input = masks ? tf.mul(x, masks.input) : x;
    let hidden = tf.relu(tf.add(tf.matMul(input, k1), b1));
    if (masks) hidden = tf.mul(hidden, masks.hidden);
    return tf.add(tf.matMul(hidden, k2), b2); // logits for sigmoid output, the prediction for linear
  }

  /**
   * Mean over the batch of the compiled model's loss. MSLE: predictions
   * clipped at epsilon like tfjs-layers (targets arrive as log(1 + max(y, ε))).
   * Binary cross-entropy: the numerically stable form on the logits.
   */
  private meanLoss(output: tf.Tensor, target: tf.Tensor): tf.Scalar {
    if (this.config.loss === 'meanSquaredLogarithmicError') {
      if (this.config.outputActivation !== 'linear') throw new Error('MSLE is used with the linear output');
      return tf.mean(tf.square(tf.sub(tf.log1p(tf.clipByValue(output, EPSILON, Number.MAX_VALUE)), target)));
    }
    if (this.config.outputActivation !== 'sigmoid') throw new Error('binary cross-entropy is used with the sigmoid output');
    // max(z, 0) - z·y + log(1 + e^-|z|)
    return tf.mean(tf.add(tf.sub(tf.relu(output), tf.mul(output, target)), tf.log1p(tf.exp(tf.neg(tf.abs(output))))));
  }

  private targets(labels: Float32Array, start: number, end: number): tf.Tensor {
    const t = labels.slice(start, end);
    if (this.config.loss === 'meanSquaredLogarithmicError') for (let i = 0; i < t.length; i++) t[i] = Math.log1p(Math.max(t[i], EPSILON));
    return tf.tensor2d(t, [t.length, 1]);
  }

  /**
   * [end-start, 2·dim]: user row then product row per example, each first
   * brought up to `step` (a fresh array: tfjs-node may read it lazily).
   */
  private gather(users: Int32Array, products: Int32Array, start: number, end: number, step: number): Float32Array {
    const D = this.dim;
    const out = new Float32Array((end - start) * 2 * D);
    const u = this.users.values;
    const p = this.products.values;
    for (let i = start; i < end; i++) {
      const o = (i - start) * 2 * D;
      const user = users[i];
      const product = products[i];
      if (!(user >= 0 && user < this.userRows)) throw new Error(`customer id ${user} outside the user table (${this.userRows} rows)`);
      if (!(product >= 0 && product < this.productRows))
        throw new Error(`product id ${product} outside the product table (${this.productRows} rows)`);
      this.users.catchUp(user, step);
      this.products.catchUp(product, step);
      out.set(u.subarray(user * D, user * D + D), o);
      out.set(p.subarray(product * D, product * D + D), o + D);
    }
    return out;
  }

  /** Inverted dropout, as Keras: each unit kept with probability 1 - rate and scaled by 1 / (1 - rate). */
  private dropoutMask(n: number): Float32Array {
    const rate = this.config.dropout;
    const mask = new Float32Array(n);
    if (rate === 0) return mask.fill(1);
    const kept = 1 / (1 - rate);
    const threshold = rate * 4294967296; // rate as a share of the uint32 range
    for (let i = 0; i < n; i++) mask[i] = this.rng.nextUint32() >= threshold ? kept : 0;
    return mask;
  }
}

/** A layer's weights as independent Float32Arrays with their shapes. */
function weightsOf(model: tf.LayersModel, name: string): { shape: number[]; values: Float32Array }[] {
  // dataSync copies on the tensorflow backend; slice() makes that explicit.
  return model
    .getLayer(name)
    .getWeights()
    .map((w) => ({ shape: w.shape, values: (w.dataSync() as Float32Array).slice() }));
}
