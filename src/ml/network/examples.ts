import { AliasSampler } from './alias-sampler';
import { hasPurchased, type PurchaseHistory } from '../dataset/purchase-history';
import { Random } from '../random';

/** Training examples as parallel typed arrays (one entry per example). */
export interface ExampleSet {
  users: Int32Array;
  products: Int32Array;
  labels: Float32Array;
}

/** Seeded split of pair indices 0..pairs-1 into training and validation. */
export function splitPairs(pairs: number, validationShare: number, rng: Random): { train: Int32Array; validation: Int32Array } {
  const order = new Int32Array(pairs);
  for (let i = 0; i < pairs; i++) order[i] = i;
  // Shuffle before splitting: the pairs are sorted by customer, and Keras'
  // unshuffled validation_split would hold out whole customers (the last 25%).
  rng.shuffle(order);
  const validation = Math.min(pairs - 1, Math.floor(pairs * validationShare));
  return { validation: order.slice(0, Math.max(0, validation)), train: order.slice(Math.max(0, validation)) };
}

/** Seed mode: the chosen pairs with their scaled-count ratings as regression targets. */
export function ratedExamples(pairIndices: Int32Array, pairUser: Int32Array, history: PurchaseHistory, ratings: Float32Array): ExampleSet {
  const n = pairIndices.length;
  const set: ExampleSet = { users: new Int32Array(n), products: new Int32Array(n), labels: new Float32Array(n) };
  for (let i = 0; i < n; i++) {
    const pair = pairIndices[i];
    set.users[i] = pairUser[pair];
    set.products[i] = history.products[pair];
    set.labels[i] = ratings[pair];
  }
  return set;
}

/**
 * Draws products a customer did not buy. Uniform over the catalogue, or by
 * popularity^0.75 (distinct buyers), which makes popular-but-unbought
 * products harder negatives. Rejection against the customer's sorted pairs;
 * gives up (returns -1) after a bounded number of tries for a customer who
 * bought (nearly) everything.
 */
export class NegativeSampler {
  private readonly popularity: AliasSampler | undefined;

  constructor(
    private readonly history: PurchaseHistory,
    mode: 'uniform' | 'popularity',
  ) {
    if (mode === 'popularity') {
      const buyers = new Float64Array(history.productRows);
      for (let i = 0; i < history.products.length; i++) buyers[history.products[i]]++;
      for (let p = 0; p < buyers.length; p++) buyers[p] = Math.pow(buyers[p], 0.75);
      this.popularity = new AliasSampler(buyers);
    }
  }

  sample(user: number, rng: Random): number {
    for (let attempt = 0; attempt < 64; attempt++) {
      const product = this.popularity ? this.popularity.sample(rng) : rng.int(this.history.productRows);
      if (!hasPurchased(this.history, user, product)) return product;
    }
    return -1;
  }
}

/**
 * Implicit mode: each chosen pair as a positive (label 1) plus `negatives`
 * sampled unbought products for the same customer (label 0), fully shuffled.
 */
export function implicitExamples(
  pairIndices: Int32Array,
  pairUser: Int32Array,
  history: PurchaseHistory,
  negatives: number,
  sampler: NegativeSampler,
  rng: Random,
): ExampleSet {
  const capacity = pairIndices.length * (1 + negatives);
  const users = new Int32Array(capacity);
  const products = new Int32Array(capacity);
  const labels = new Float32Array(capacity);
  let n = 0;
  for (let i = 0; i < pairIndices.length; i++) {
    const pair = pairIndices[i];
    const user = pairUser[pair];
    users[n] = user;
    products[n] = history.products[pair];
    labels[n] = 1;
    n++;
    for (let k = 0; k < negatives; k++) {
      const negative = sampler.sample(user, rng);
      if (negative < 0) break;
      users[n] = user;
      products[n] = negative;
      labels[n] = 0;
      n++;
    }
  }
  return shuffleExamples({ users: users.subarray(0, n), products: products.subarray(0, n), labels: labels.subarray(0, n) }, rng);
}

/** Returns a new, shuffled copy (seeded) so batches mix customers and labels. */
export function shuffleExamples(set: ExampleSet, rng: Random): ExampleSet {
  const n = set.users.length;
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  rng.shuffle(order);
  const out: ExampleSet = { users: new Int32Array(n), products: new Int32Array(n), labels: new Float32Array(n) };
  for (let i = 0; i < n; i++) {
    const j = order[i];
    out.users[i] = set.users[j];
    out.products[i] = set.products[j];
    out.labels[i] = set.labels[j];
  }
  return out;
}
