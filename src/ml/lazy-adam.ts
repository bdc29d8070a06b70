/**
 * Adam for embedding tables, applied only to the rows a batch touched
 * ("lazy" Adam, as TensorFlow Addons' LazyAdam and TF's sparse apply ops).
 *
 * Why not tfjs' optimizer: tfjs has no sparse gradients. The gradient of an
 * embedding lookup is a dense [rows, dim] tensor and Adam reads and writes
 * the whole table and both moment tables on every step, so a batch of 64
 * costs as much as the 28,606-row table (the seed recipe ran at 0.32× Keras).
 * Here the table and its moments are Float32Arrays and a step costs
 * O(rows touched × dim). Rows not in the batch keep their moments unchanged
 * until they are next touched (dense Adam would keep moving them by their
 * decaying momentum); bias correction uses the global step, as TF does.
 */

export interface AdamConfig {
  learningRate: number;
  /** tfjs' and Keras' defaults */
  beta1?: number;
  beta2?: number;
  epsilon?: number;
}

/**
 * The gradient rows of one batch, summed per distinct table row (a customer
 * twice in a batch gets the sum of both gradients, as the dense gradient
 * would). O(batch) to fill and to reset.
 */
export class RowGradients {
  /** table row → slot in `rows`/`values`, -1 when not touched in this batch */
  private readonly slotOf: Int32Array;
  /** distinct rows touched, in first-touch order; the first `count` are valid */
  readonly rows: Int32Array;
  /** summed gradients, [slot, dim] */
  readonly values: Float32Array;
  count = 0;

  constructor(
    tableRows: number,
    readonly dim: number,
    maxRowsPerBatch: number,
  ) {
    this.slotOf = new Int32Array(tableRows).fill(-1);
    this.rows = new Int32Array(maxRowsPerBatch);
    this.values = new Float32Array(maxRowsPerBatch * dim);
  }

  /** Adds grad[offset .. offset+dim) to table row `row`. */
  add(row: number, grad: Float32Array, offset: number): void {
    let slot = this.slotOf[row];
    if (slot < 0) {
      if (this.count === this.rows.length) throw new Error(`more than ${this.rows.length} distinct rows in one batch`);
      slot = this.count++;
      this.slotOf[row] = slot;
      this.rows[slot] = row;
      this.values.fill(0, slot * this.dim, (slot + 1) * this.dim);
    }
    const base = slot * this.dim;
    for (let d = 0; d < this.dim; d++) this.values[base + d] += grad[offset + d];
  }

  clear(): void {
    for (let s = 0; s < this.count; s++) this.slotOf[this.rows[s]] = -1;
    this.count = 0;
  }
}

/**
 * One parameter (an embedding table [rows, dim] row-major, or a dense
 * kernel or bias) and its Adam moments, updated in place.
 */
export class AdamParameter {
  private readonly m: Float32Array;
  private readonly v: Float32Array;
  private readonly learningRate: number;
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly epsilon: number;

  constructor(
    /** updated in place */
    readonly values: Float32Array,
    config: AdamConfig,
  ) {
    this.m = new Float32Array(values.length);
    this.v = new Float32Array(values.length);
    this.learningRate = config.learningRate;
    this.beta1 = config.beta1 ?? 0.9;
    this.beta2 = config.beta2 ?? 0.999;
    this.epsilon = config.epsilon ?? 1e-7;
  }

  /** A dense step: `gradient` has one value per parameter value. `step` is 1-based and global across all parameters. */
  apply(gradient: Float32Array, step: number): void {
    if (gradient.length !== this.values.length) throw new Error(`gradient of ${gradient.length} values for a parameter of ${this.values.length}`);
    this.update(0, gradient, 0, this.values.length, step);
  }

  /** A lazy step: only the rows in `gradients` (rows of gradients.dim values) change, moments included. */
  applyRows(gradients: RowGradients, step: number): void {
    const dim = gradients.dim;
    for (let s = 0; s < gradients.count; s++) {
      const row = gradients.rows[s];
      if ((row + 1) * dim > this.values.length) throw new Error(`row ${row} outside a table of ${this.values.length / dim} rows`);
      this.update(row * dim, gradients.values, s * dim, dim, step);
    }
  }

  /** tfjs' Adam formula: bias-corrected moments, epsilon added to the root of the corrected second moment. */
  private update(at: number, gradient: Float32Array, from: number, n: number, step: number): void {
    const { m, v, values, beta1, beta2, epsilon } = this;
    const correction1 = 1 - Math.pow(beta1, step);
    const correction2 = 1 - Math.pow(beta2, step);
    const lr = this.learningRate;
    for (let k = 0; k < n; k++) {
      const i = at + k;
      const g = gradient[from + k];
      const mi = beta1 * m[i] + (1 - beta1) * g;
      const vi = beta2 * v[i] + (1 - beta2) * g * g;
      m[i] = mi;
      v[i] = vi;
      values[i] -= (lr * (mi / correction1)) / (Math.sqrt(vi / correction2) + epsilon);
    }
  }
}
