/**
 * Adam on Float32Arrays, for dense layers and for embedding tables whose
 * rows are updated only when a batch touches them.
 *
 * Why not tfjs' optimizer for the tables: tfjs has no sparse gradients. The
 * gradient of an embedding lookup is a dense [rows, dim] tensor and Adam
 * reads and writes the whole table and both moment tables on every step, so
 * a batch of 64 costs as much as the 28,606-row table (the seed recipe ran at
 * 0.32× Keras).
 *
 * Semantics are dense Adam's (tfjs', Keras'), not TF Addons' LazyAdam: in
 * dense Adam a row that gets no gradient still moves by its decaying
 * momentum for a few dozen steps, which is about ten times the movement of
 * the step that touched it; skipping that (LazyAdam) measurably changed the
 * seed recipe's results. Here those zero-gradient steps are deferred and
 * applied in one go before the row is next read or updated (catchUp): the
 * moments decay by beta^gap, and the skipped updates are summed, in closed
 * form per row when epsilon is negligible beside the root of the second
 * moment (almost always), step by step otherwise. Updates older than
 * MAX_CATCH_UP steps are dropped: their weight is below 1e-9 of the first
 * one.
 */

export interface AdamConfig {
  learningRate: number;
  /** tfjs' and Keras' defaults */
  beta1?: number;
  beta2?: number;
  epsilon?: number;
}

/** skipped zero-gradient steps applied per catch-up; (beta1 / √beta2)^200 < 1e-9 at the default betas */
export const MAX_CATCH_UP = 200;
/** the closed form ignores epsilon when the root of the decayed second moment is at least this many epsilons */
const CLOSED_FORM_MARGIN = 1000;

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
 * One parameter — an embedding table ([rows, rowWidth], row-major) or a
 * dense kernel or bias (one row) — and its Adam moments, updated in place.
 * `values` is current (equal to dense Adam's after the last step) only after
 * catchUpAll(); rows are brought up to date when touched.
 */
export class AdamParameter {
  private readonly m: Float32Array;
  private readonly v: Float32Array;
  /** per row: the step its values and moments correspond to */
  private readonly stepOf: Int32Array;
  private readonly learningRate: number;
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly epsilon: number;
  /** per skipped step of one catch-up: the bias-corrected first-moment factor and second-moment root factor */
  private readonly firstFactor = new Float64Array(MAX_CATCH_UP);
  private readonly rootFactor = new Float64Array(MAX_CATCH_UP);

  constructor(
    /** updated in place */
    readonly values: Float32Array,
    config: AdamConfig,
    readonly rowWidth: number = values.length,
  ) {
    if (rowWidth <= 0 || values.length % rowWidth !== 0) throw new Error(`${values.length} values are not whole rows of ${rowWidth}`);
    this.m = new Float32Array(values.length);
    this.v = new Float32Array(values.length);
    this.stepOf = new Int32Array(values.length / rowWidth);
    this.learningRate = config.learningRate;
    this.beta1 = config.beta1 ?? 0.9;
    this.beta2 = config.beta2 ?? 0.999;
    this.epsilon = config.epsilon ?? 1e-7;
  }

  get rows(): number {
    return this.stepOf.length;
  }

  /** A step with a gradient for every value. `step` is 1-based and global across all parameters. */
  apply(gradient: Float32Array, step: number): void {
    if (gradient.length !== this.values.length)
      throw new Error(`gradient of ${gradient.length} values for a parameter of ${this.values.length}`);
    this.catchUpAll(step - 1);
    this.update(0, gradient, 0, this.values.length, step);
    this.stepOf.fill(step);
  }

  /** A step whose gradient is zero outside the rows in `gradients` (rows of rowWidth values). */
  applyRows(gradients: RowGradients, step: number): void {
    const width = this.rowWidth;
    if (gradients.dim !== width) throw new Error(`gradient rows of ${gradients.dim} values for a table of ${width}-wide rows`);
    for (let s = 0; s < gradients.count; s++) {
      const row = gradients.rows[s];
      if (row < 0 || row >= this.rows) throw new Error(`row ${row} outside a table of ${this.rows} rows`);
      this.catchUp(row, step - 1);
      this.update(row * width, gradients.values, s * width, width, step);
      this.stepOf[row] = step;
    }
  }

  /** Brings every row to `step` (the zero-gradient updates it has not had yet). */
  catchUpAll(step: number): void {
    for (let row = 0; row < this.rows; row++) this.catchUp(row, step);
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

  /**
   * Brings one row to `step`: the zero-gradient steps s+1 .. step of a row
   * last updated at s (a no-op when it is current). Call it before reading
   * the row's values.
   * Step
   * j = s + k moves a value by lr · m·b1^k/(1 − b1^j) / (√v · √(b2^k/(1 − b2^j)) + ε);
   * with ε negligible that is lr · m/√v · firstFactor_k/rootFactor_k, so the
   * per-row sum of the ratios serves every value of the row.
   */
  catchUp(row: number, step: number): void {
    const from = this.stepOf[row];
    if (from >= step) return;
    this.stepOf[row] = step;
    if (from === 0) return; // never updated: moments are zero, nothing moves
    const { m, v, values, beta1, beta2, epsilon, firstFactor, rootFactor } = this;
    const gap = step - from;
    const terms = Math.min(gap, MAX_CATCH_UP);
    let b1k = 1;
    let b2k = 1;
    let b1j = Math.pow(beta1, from);
    let b2j = Math.pow(beta2, from);
    let ratioSum = 0;
    for (let k = 0; k < terms; k++) {
      b1k *= beta1;
      b2k *= beta2;
      b1j *= beta1;
      b2j *= beta2;
      firstFactor[k] = b1k / (1 - b1j);
      rootFactor[k] = Math.sqrt(b2k / (1 - b2j));
      ratioSum += firstFactor[k] / rootFactor[k];
    }
    const smallestRoot = rootFactor[terms - 1]; // the root factor only shrinks with k
    const lr = this.learningRate;
    const decay1 = Math.pow(beta1, gap);
    const decay2 = Math.pow(beta2, gap);
    const width = this.rowWidth;
    for (let i = row * width; i < (row + 1) * width; i++) {
      const mi = m[i];
      if (mi !== 0) {
        const root = Math.sqrt(v[i]);
        if (root * smallestRoot >= CLOSED_FORM_MARGIN * epsilon) {
          values[i] -= (lr * mi * ratioSum) / root;
        } else {
          let moved = 0;
          for (let k = 0; k < terms; k++) moved += firstFactor[k] / (root * rootFactor[k] + epsilon);
          values[i] -= lr * mi * moved;
        }
      }
      m[i] = mi * decay1;
      v[i] *= decay2;
    }
  }
}
