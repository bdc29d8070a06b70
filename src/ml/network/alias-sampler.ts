import { Random } from '../random';

/**
 * Walker/Vose alias table: O(1) draws from a fixed discrete distribution.
 * Synthetic data at the 1M-user scale draws ~10^8 products, and popularity-
 * weighted negative sampling draws millions per epoch, so a linear or binary
 * search per draw would dominate.
 */
export class AliasSampler {
  private readonly prob: Float64Array;
  private readonly alias: Int32Array;
  /** Optional mapping from table slot to the value returned (e.g. product ids of a subset). */
  private readonly values: Int32Array | undefined;

  /**
   * @param weights non-negative weights, at least one positive
   * @param values if given, draws return values[slot] instead of the slot index
   */
  constructor(weights: ArrayLike<number>, values?: Int32Array) {
    const n = weights.length;
    if (n === 0) throw new Error('AliasSampler needs at least one weight');
    if (values && values.length !== n) throw new Error('AliasSampler values must match weights in length');
    let total = 0;
    for (let i = 0; i < n; i++) {
      const w = weights[i];
      if (!(w >= 0) || !Number.isFinite(w)) throw new Error(`AliasSampler weight ${i} is not a finite non-negative number`);
      total += w;
    }
    if (total <= 0) throw new Error('AliasSampler needs a positive total weight');

    this.prob = new Float64Array(n);
    this.alias = new Int32Array(n);
    this.values = values;
    const scaled = new Float64Array(n);
    const small = new Int32Array(n);
    const large = new Int32Array(n);
    let ns = 0;
    let nl = 0;
    for (let i = 0; i < n; i++) {
      scaled[i] = (weights[i] * n) / total;
      if (scaled[i] < 1) small[ns++] = i;
      else large[nl++] = i;
    }
    while (ns > 0 && nl > 0) {
      const s = small[--ns];
      const l = large[--nl];
      this.prob[s] = scaled[s];
      this.alias[s] = l;
      scaled[l] = scaled[l] + scaled[s] - 1;
      if (scaled[l] < 1) small[ns++] = l;
      else large[nl++] = l;
    }
    // Leftovers are 1 up to rounding error.
    while (nl > 0) {
      const l = large[--nl];
      this.prob[l] = 1;
      this.alias[l] = l;
    }
    while (ns > 0) {
      const s = small[--ns];
      this.prob[s] = 1;
      this.alias[s] = s;
    }
  }

  get size(): number {
    return this.prob.length;
  }

  sample(rng: Random): number {
    const slot = rng.int(this.prob.length);
    const chosen = rng.next() < this.prob[slot] ? slot : this.alias[slot];
    return this.values ? this.values[chosen] : chosen;
  }
}
