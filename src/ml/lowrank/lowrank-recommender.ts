/**
 * The low-rank form of the linear model, for catalogues too large for a
 * dense products × products matrix. A randomized eigendecomposition of the
 * (row-weighted) Gram matrix G ≈ V·diag(s²)·Vᵀ (randomized-eigen.ts) gives,
 * with d = s²/(s² + λ) and h_j = Σ_k V_jk² d_k:
 *
 *   ease    (default): EASE with G replaced by its rank-k part. (G + λI)⁻¹ =
 *           (I − V·diag(d)·Vᵀ)/λ, so B_ij = (V·diag(d)·Vᵀ)_ij / (1 − h_j)
 *           off the diagonal and 0 on it; for a product the customer has
 *           not bought, score = (x_u·V·diag(d)) · (V_j / (1 − h_j)) exactly.
 *   ridge:  the ridge regression of X on itself, x_u·V·diag(d)·Vᵀ.
 *   puresvd: x_u·V·Vᵀ (Cremonesi et al. 2010).
 *
 * Optionally the product side is divided by its buyers^β (as RP3β does).
 * Served tables: users U = X·V·diag(d) [customers × k], products
 * V·diag(scale) [products × k] — the dot-product SavedModel unchanged.
 */
import * as tf from '@tensorflow/tfjs-node';
import { z } from 'zod';
import type { PurchaseHistory } from '../dataset/purchase-history';
import type { DotProductWeights } from '../dot-weights';
import { rankHoldout, type HoldoutEvaluation } from '../evaluate';
import { holdOutOnePerUser, type HoldoutSplit } from '../holdout';
import { TrainingCancelledError, type TrainingHooks } from '../progress';
import { deriveSeed } from '../random';
import { topEigenpairs } from './randomized-eigen';
import { LowRankAborted, SparseHistory } from './sparse-history';

export const lowRankShrinkages = ['ease', 'ridge', 'puresvd'] as const;
export type LowRankShrinkage = (typeof lowRankShrinkages)[number];

export const lowRankOptionsSchema = z
  .object({
    /** factors per table (k) */
    rank: z.number().int().min(1).max(1024).default(64),
    oversample: z.number().int().min(0).max(1024).default(16),
    powerIterations: z.number().int().min(0).max(20).default(3),
    shrinkage: z.enum(lowRankShrinkages).default('ease'),
    /** L2 strength in d = s²/(s² + λ) (ease, ridge); without it λ = lambdaScale × s²_k */
    lambda: z.number().positive().optional(),
    /**
     * λ relative to the k-th (smallest kept) eigenvalue s²_k, so the last kept
     * direction is always shrunk to d_k = 1/(1 + lambdaScale) whatever the
     * catalogue's density. Best measured 2–4 on generated data (20k × 30k,
     * 200k × 50k), 4–16 on the seed data; 4 is within 0.004 HR@10 of each
     * best (docs/ml.md "Scale"). Relative to the Gram's mean diagonal, as the
     * dense model does, the best multiple ranged 8–125 across the same sets.
     */
    lambdaScale: z.number().positive().default(4),
    /** rows of X weighted by n_u^-userExponent in the Gram matrix */
    userExponent: z.number().min(0).max(2).default(0.25),
    /** product side divided by buyers^beta */
    beta: z.number().min(0).max(2).default(0),
    seed: z.number().int().min(0).max(0xffff_ffff).default(42),
    holdout: z.boolean().default(true),
    maxEvalUsers: z.number().int().min(1).default(2000),
  })
  .strict();
export type LowRankOptionsInput = z.input<typeof lowRankOptionsSchema>;
export type LowRankOptions = z.output<typeof lowRankOptionsSchema>;

export interface LowRankMetrics {
  form: 'lowrank';
  /** the options with the λ actually used (explicit, or lambdaScale × s²_k) */
  options: LowRankOptions & { lambda: number };
  /** factors actually used: min(rank, products) */
  rank: number;
  /** the k eigenvalues s² of the Gram matrix, descending (first and last) */
  spectrum: { largest: number; smallest: number };
  training: { seconds: number; eigenSeconds: number; tableSeconds: number; pairs: number };
  evaluated: boolean;
  evaluation?: HoldoutEvaluation;
  notEvaluatedReason?: string;
}

export interface TrainedLowRank {
  weights: DotProductWeights;
  metrics: LowRankMetrics;
  split?: HoldoutSplit;
}

/** Keeps 1/(1 − h_j) finite when a product lies almost entirely in the kept subspace with a tiny λ. */
const MIN_RESIDUAL = 1e-3;

/** Customers scored per evaluation chunk: a [chunk, products] float32 block of ~16 MB. */
const SCORE_CHUNK_FLOATS = 4 * 1024 * 1024;

/**
 * Trains on the leave-one-out training split (with `holdout`), evaluates
 * on the sampled held-out customers, and returns the tables of THAT model.
 */
export async function trainLowRankRecommender(
  history: PurchaseHistory,
  input: LowRankOptionsInput = {},
  hooks: TrainingHooks = {},
): Promise<TrainedLowRank> {
  const o = lowRankOptionsSchema.parse(input);
  const started = performance.now();
  const split = o.holdout ? holdOutOnePerUser(history, o.maxEvalUsers, o.seed) : undefined;
  const train = split?.train ?? history;
  if (hooks.signal?.aborted) throw new TrainingCancelledError('train', 0, 0);
  const P = train.productRows;
  const x = new SparseHistory(train, rowWeights(train, o.userExponent));

  let eigen;
  try {
    eigen = await topEigenpairs(x, {
      rank: o.rank,
      oversample: o.oversample,
      powerIterations: o.powerIterations,
      seed: deriveSeed(o.seed, 41),
      signal: hooks.signal,
    });
  } catch (error) {
    throw error instanceof LowRankAborted ? new TrainingCancelledError('train', 0, 0) : error;
  }
  const eigenSeconds = (performance.now() - started) / 1000;
  const k = eigen.values.length;
  const lambda = o.lambda ?? o.lambdaScale * spectrumFloor(eigen.values);
  const d = shrinkFactors(eigen.values, lambda, o);
  const userSide = tf.tidy(() => tf.mul(eigen.vectors, tf.tensor2d(d, [1, k])) as tf.Tensor2D);
  const productSide = tf.tidy(() => tf.mul(eigen.vectors, tf.tensor2d(productScale(train, eigen.vectors, d, o), [P, 1])) as tf.Tensor2D);
  eigen.vectors.dispose();
  try {
    const userFactors = new Float32Array(train.userRows * k);
    try {
      await x.rowsTimes(userSide, (from, _to, rows) => userFactors.set(rows, from * k), hooks.signal);
    } catch (error) {
      throw error instanceof LowRankAborted ? new TrainingCancelledError('train', 0, 0) : error;
    }
    const seconds = (performance.now() - started) / 1000;
    hooks.onProgress?.({ kind: 'epoch', epoch: 1, epochs: 1, loss: 0, valLoss: null, seconds, examples: train.products.length });
    if (hooks.signal?.aborted) throw new TrainingCancelledError('train', 1, 0);

    let evaluation: HoldoutEvaluation | undefined;
    if (split && split.users.length > 0) {
      const chunk = Math.max(1, Math.floor(SCORE_CHUNK_FLOATS / P));
      evaluation = await rankHoldout(split, (users) => scoreUsers(userFactors, k, productSide, users), hooks, chunk);
    }
    const weights: DotProductWeights = {
      kind: 'dot',
      userRows: train.userRows,
      productRows: P,
      dim: k,
      userFactors,
      productFactors: productSide.dataSync() as Float32Array,
    };
    return {
      weights,
      split,
      metrics: {
        form: 'lowrank',
        options: { ...o, lambda },
        rank: k,
        spectrum: { largest: eigen.values[0], smallest: eigen.values[k - 1] },
        training: { seconds, eigenSeconds, tableSeconds: seconds - eigenSeconds, pairs: train.products.length },
        evaluated: evaluation !== undefined,
        ...(evaluation
          ? { evaluation }
          : { notEvaluatedReason: split ? 'no customer has at least 2 distinct products to hold one out' : 'holdout disabled by options' }),
      },
    };
  } finally {
    userSide.dispose();
    productSide.dispose();
  }
}

/** n_u^-exponent for customers with purchases, 0 for empty rows. */
function rowWeights(history: PurchaseHistory, exponent: number): Float32Array {
  const w = new Float32Array(history.userRows);
  for (let u = 0; u < history.userRows; u++) {
    const n = history.userOffsets[u + 1] - history.userOffsets[u];
    w[u] = n > 0 ? n ** -exponent : 0;
  }
  return w;
}

/**
 * s²_k, the base of the relative λ, but at least 1e-3 × s²_1: a rank at or
 * past the history's own rank has s²_k ≈ 0, and λ → 0 would leave EASE's
 * 1/(1 − h_j) unregularised.
 */
function spectrumFloor(values: Float32Array): number {
  return Math.max(values[values.length - 1], 1e-3 * values[0]);
}

/** d_k of the chosen shrinkage (1 for PureSVD). */
function shrinkFactors(values: Float32Array, lambda: number, o: LowRankOptions): Float32Array {
  if (o.shrinkage === 'puresvd') return new Float32Array(values.length).fill(1);
  // a zero spectrum (empty history) would give λ 0 and 0/0
  return Float32Array.from(values, (s) => (s + lambda > 0 ? s / (s + lambda) : 0));
}

/** Per-product scale of the product table: 1/(1 − h_j) for EASE, times buyers^-β. */
function productScale(history: PurchaseHistory, vectors: tf.Tensor2D, d: Float32Array, o: LowRankOptions): Float32Array {
  const P = history.productRows;
  const scale = new Float32Array(P).fill(1);
  if (o.shrinkage === 'ease') {
    const h = readAndDispose(tf.tidy(() => tf.sum(tf.mul(tf.square(vectors), tf.tensor2d(d, [1, d.length])), 1)));
    for (let j = 0; j < P; j++) scale[j] = 1 / Math.max(MIN_RESIDUAL, 1 - h[j]);
  }
  if (o.beta > 0) {
    const buyers = new Float32Array(P);
    for (let i = 0; i < history.products.length; i++) buyers[history.products[i]]++;
    for (let j = 0; j < P; j++) scale[j] /= Math.max(1, buyers[j]) ** o.beta;
  }
  return scale;
}

/** Row-major [users.length, products] scores U[users]·Vᵀ. */
function scoreUsers(userFactors: Float32Array, k: number, productSide: tf.Tensor2D, users: Int32Array): Float32Array {
  const rows = new Float32Array(users.length * k);
  for (let i = 0; i < users.length; i++) rows.set(userFactors.subarray(users[i] * k, (users[i] + 1) * k), i * k);
  return readAndDispose(tf.tidy(() => tf.matMul(tf.tensor2d(rows, [users.length, k]), productSide, false, true)));
}

/**
 * The tensor's values, then frees it. (Not `tf.tidy(() => t.dataSync())`:
 * tidy walks a returned typed array element by element looking for
 * tensors, which costs more than the matMul for a [41, 100,000] block.)
 */
export function readAndDispose(t: tf.Tensor): Float32Array {
  try {
    return t.dataSync() as Float32Array;
  } finally {
    t.dispose();
  }
}
