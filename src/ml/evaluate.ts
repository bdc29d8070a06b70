import { setImmediate as nextTick } from 'node:timers/promises';
import type * as tf from '@tensorflow/tfjs-node';
import { hasPurchased, type PurchaseHistory } from './dataset/purchase-history';
import { NegativeSampler } from './network/examples';
import type { HoldoutSplit } from './holdout';
import type { TrainingOptions } from './network/options';
import { popularityRanking } from './popularity';
import { TrainingCancelledError, type TrainingHooks } from './progress';
import { RankingAccumulator, rankAmongCandidates, rankInOrder } from './ranking-metrics';
import { deriveSeed, Random } from './random';
import { seedRatings } from './network/ratings';
import { CatalogueScorer, predictPairs } from './network/scoring';

export interface RankingScores {
  /** share of evaluated customers whose held-out product is in the top 10 */
  hr10: number;
  /** mean NDCG@10 with one relevant product per customer */
  ndcg10: number;
}

/** Held-out evaluation of one model; JSON-serializable. */
export interface HoldoutEvaluation extends RankingScores {
  protocol: string;
  /** customers evaluated */
  users: number;
  /** customers with >= 2 distinct products */
  eligibleUsers: number;
  /** true when `users` is a seeded sample of the eligible customers */
  sampled: boolean;
  /** the most-popular-first baseline under the same protocol */
  popularity: RankingScores;
  /** the training loss function on the held-out examples (see `heldOutTargets`) */
  heldOutLoss: number;
  /** root mean squared error of the model's output on the same examples */
  rmse: number;
  /** what heldOutLoss and rmse are measured against */
  heldOutTargets: string;
}

export const HOLDOUT_PROTOCOL =
  'leave-one-out: for each customer with >= 2 distinct products (or a seeded sample), one distinct product chosen uniformly ' +
  'at random (seeded) is removed from training with all its repeat purchases; the model then ranks ALL products except the ' +
  "customer's remaining training products (ties broken by lower id); HR@10 = share of customers whose held-out product " +
  'ranks in the top 10, NDCG@10 = mean 1/log2(rank+1) over those hits. The popularity baseline ranks the same candidates by ' +
  'distinct buyers in the training split.';

const EPSILON = 1e-7; // Keras/tfjs clip value for log losses

/**
 * Ranks the held-out products of `split` with the trained model and with the
 * popularity baseline, and measures the objective's loss and RMSE on held-out
 * examples. Scoring is batched per chunk of customers (see CatalogueScorer);
 * the AbortSignal is checked between chunks.
 */
export async function evaluateHoldout(
  model: tf.LayersModel,
  split: HoldoutSplit,
  full: PurchaseHistory,
  options: TrainingOptions,
  hooks: TrainingHooks = {},
): Promise<HoldoutEvaluation> {
  const scorer = new CatalogueScorer(model);
  let ranked: HoldoutEvaluation;
  try {
    ranked = await rankHoldout(split, (users) => scorer.score(users), hooks, scorer.usersPerChunk);
  } finally {
    scorer.dispose();
  }
  const pointwise = options.mode === 'seed' ? seedHeldOutError(model, split, full) : implicitHeldOutError(model, split, full, options);
  return { ...ranked, ...pointwise };
}

/** Floats of the [users, products] score block per evaluation chunk. */
const SCORE_CHUNK_FLOATS = 4 * 1024 * 1024;

/** Per-customer ranks of a holdout ranking, in `split.users` order (for intervals: bench:quality's bootstrap). */
export interface HoldoutRanks {
  model: Int32Array;
  popularity: Int32Array;
}

/**
 * Ranks each held-out product among all products the customer did not buy
 * in training, with `score(users)` giving row-major [users.length, P] scores
 * (`usersPerChunk` users at a time), against popularity on the same split.
 * The pointwise fields are NaN: a ranking says nothing about them. `ranks`,
 * when given, receives every customer's rank under both.
 */
export async function rankHoldout(
  split: HoldoutSplit,
  score: (users: Int32Array) => Float32Array,
  hooks: TrainingHooks = {},
  usersPerChunk?: number,
  ranks?: HoldoutRanks,
): Promise<HoldoutEvaluation> {
  const { train } = split;
  const P = train.productRows;
  const popular = popularityRanking(train);
  const position = new Int32Array(P);
  popular.order.forEach((p, i) => (position[p] = i));
  const model = new RankingAccumulator();
  const popularity = new RankingAccumulator();
  const chunk = usersPerChunk ?? Math.max(1, Math.floor(SCORE_CHUNK_FLOATS / P));
  for (let from = 0; from < split.users.length; from += chunk) {
    const users = split.users.subarray(from, Math.min(split.users.length, from + chunk));
    const scores = score(users);
    for (let i = 0; i < users.length; i++) {
      const u = users[i];
      const exFrom = train.userOffsets[u];
      const exTo = train.userOffsets[u + 1];
      const m = rankAmongCandidates(scores, i * P, P, split.products[from + i], train.products, exFrom, exTo);
      const p = rankInOrder(position, split.products[from + i], train.products, exFrom, exTo);
      model.add(m);
      popularity.add(p);
      if (ranks) {
        ranks.model[from + i] = m;
        ranks.popularity[from + i] = p;
      }
    }
    hooks.onProgress?.({ kind: 'evaluate', scored: from + users.length, users: split.users.length });
    await nextTick();
    if (hooks.signal?.aborted) throw new TrainingCancelledError('evaluate', 0, from + users.length);
  }
  return {
    protocol: HOLDOUT_PROTOCOL,
    users: split.users.length,
    eligibleUsers: split.eligibleUsers,
    sampled: split.sampled,
    ...model.result(),
    popularity: popularity.result(),
    heldOutLoss: NaN,
    rmse: NaN,
    heldOutTargets: 'none: a ranking model without a pointwise loss (heldOutLoss and rmse are not defined)',
  };
}

type PointwiseError = Pick<HoldoutEvaluation, 'heldOutLoss' | 'rmse' | 'heldOutTargets'>;

/** Seed mode: MSLE and RMSE against the seed rating (computed on the full history) of each held-out pair. */
function seedHeldOutError(model: tf.LayersModel, split: HoldoutSplit, full: PurchaseHistory): PointwiseError {
  const ratings = seedRatings(full);
  const targets = new Float32Array(split.users.length);
  for (let i = 0; i < split.users.length; i++) targets[i] = ratings[pairIndex(full, split.users[i], split.products[i])];
  const predicted = predictPairs(model, split.users, split.products);
  let msle = 0;
  let se = 0;
  for (let i = 0; i < predicted.length; i++) {
    const d = Math.log1p(Math.max(predicted[i], EPSILON)) - Math.log1p(Math.max(targets[i], EPSILON));
    msle += d * d;
    se += (predicted[i] - targets[i]) ** 2;
  }
  const n = Math.max(1, predicted.length);
  return {
    heldOutLoss: msle / n,
    rmse: Math.sqrt(se / n),
    heldOutTargets: 'seed rating (min–max scaled count on the full history) of each held-out pair',
  };
}

/**
 * Implicit mode: binary cross-entropy and RMSE on each held-out product
 * (label 1) plus `negatives` products the customer never bought in the full
 * history (label 0), sampled with a seeded PRNG.
 */
function implicitHeldOutError(model: tf.LayersModel, split: HoldoutSplit, full: PurchaseHistory, options: TrainingOptions): PointwiseError {
  const sampler = new NegativeSampler(full, 'uniform');
  const rng = new Random(deriveSeed(options.seed, 31));
  const users: number[] = [];
  const products: number[] = [];
  const labels: number[] = [];
  for (let i = 0; i < split.users.length; i++) {
    const u = split.users[i];
    users.push(u);
    products.push(split.products[i]);
    labels.push(1);
    for (let k = 0; k < options.negatives; k++) {
      const negative = sampler.sample(u, rng);
      if (negative < 0) break;
      users.push(u);
      products.push(negative);
      labels.push(0);
    }
  }
  const predicted = predictPairs(model, Int32Array.from(users), Int32Array.from(products));
  let bce = 0;
  let se = 0;
  for (let i = 0; i < predicted.length; i++) {
    const p = Math.min(1 - EPSILON, Math.max(EPSILON, predicted[i]));
    bce -= labels[i] === 1 ? Math.log(p) : Math.log(1 - p);
    se += (predicted[i] - labels[i]) ** 2;
  }
  const n = Math.max(1, predicted.length);
  return {
    heldOutLoss: bce / n,
    rmse: Math.sqrt(se / n),
    heldOutTargets: `implicit labels: each held-out product (1) plus ${options.negatives} never-bought products per customer (0)`,
  };
}

function pairIndex(history: PurchaseHistory, user: number, product: number): number {
  if (!hasPurchased(history, user, product)) throw new Error(`pair (${user}, ${product}) not in ${history.source}`);
  let lo = history.userOffsets[user];
  let hi = history.userOffsets[user + 1] - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (history.products[mid] < product) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
