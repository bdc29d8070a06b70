/**
 * The low-rank form of the linear model, for catalogues too large for a
 * dense products × products matrix: a randomized eigendecomposition of the
 * (row-weighted) Gram matrix G ≈ V·diag(s²)·Vᵀ (randomized-eigen.ts), and
 * the served tables built from it (tables.ts: EASE with a uniform or a
 * residual + EDLAE diagonal penalty, ridge, PureSVD). By default the
 * penalty is chosen per retrain on a validation split of the training part
 * (lowrank-selection.ts), from the same single decomposition.
 */
import * as tf from '@tensorflow/tfjs-node';
import { z } from 'zod';
import type { PurchaseHistory } from '../dataset/purchase-history';
import type { DotProductWeights } from '../dot-weights';
import { rankHoldout, type HoldoutEvaluation } from '../evaluate';
import { holdOutOnePerUser, type HoldoutSplit } from '../holdout';
import { TrainingCancelledError, type TrainingHooks } from '../progress';
import { deriveSeed } from '../random';
import {
  lowRankSelectionSchema,
  rowWeights,
  selectLowRank,
  spectrumFloor,
  SCORE_CHUNK_FLOATS,
  type LowRankSelection,
} from './lowrank-selection';
import { topEigenpairs } from './randomized-eigen';
import { LowRankAborted, SparseHistory } from './sparse-history';
import { gramDiagonal, lowRankTables, readAndDispose, type Eigen, type TableKnobs } from './tables';

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
    /** EASE's penalty diagonal when not selected (tables.ts): 'uniform' λI, or 'residual' λI + R + emphasis·diag(G) */
    diagonal: z.enum(['uniform', 'residual']).default('uniform'),
    /** EDLAE emphasis q (residual diagonal) when not selected */
    emphasis: z.number().min(0).default(0),
    /** EASE: choose λ, the diagonal and the emphasis per retrain on a validation split (lowrank-selection.ts); default on unless lambda is given */
    select: z.boolean().optional(),
    selection: lowRankSelectionSchema.partial().optional(),
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
  /** the options with the values actually used (λ explicit, or lambdaScale × s²_k; chosen ones when selected) */
  options: LowRankOptions & { lambda: number };
  /** the per-retrain choice of the penalty, when selected */
  selection?: LowRankSelection;
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
  const select = (o.select ?? o.lambda === undefined) && o.shrinkage === 'ease';
  const chosen = select ? await chooseKnobs(train, o, hooks.signal) : undefined;
  const eigen = chosen?.eigen ?? (await decompose(train, o, o.userExponent, hooks.signal));
  const eigenSeconds = (performance.now() - started) / 1000;
  try {
    const lambdaBase = spectrumFloor(eigen.values);
    const c = chosen?.selection.chosen ?? {
      diagonal: o.diagonal,
      lambdaScale: o.lambdaScale,
      emphasis: o.emphasis,
      userExponent: o.userExponent,
    };
    const knobs: TableKnobs = {
      shrinkage: o.shrinkage,
      lambda: chosen ? c.lambdaScale * lambdaBase : (o.lambda ?? o.lambdaScale * lambdaBase),
      diagonal: c.diagonal,
      emphasis: c.emphasis,
      beta: o.beta,
    };
    const used = {
      ...o,
      diagonal: c.diagonal,
      lambdaScale: c.lambdaScale,
      emphasis: c.emphasis,
      userExponent: c.userExponent,
      lambda: knobs.lambda,
      select,
    };
    const weights = rowWeights(train, c.userExponent);
    const run = { started, eigenSeconds, options: used, selection: chosen?.selection };
    return await servedModel(train, split, eigen, knobs, weights, hooks, run);
  } finally {
    eigen.vectors.dispose();
  }
}

/** The per-retrain choice on a validation split of `train`, and the winning family's decomposition; undefined when no customer qualifies. */
async function chooseKnobs(train: PurchaseHistory, o: LowRankOptions, signal?: AbortSignal) {
  const options = lowRankSelectionSchema.parse(o.selection ?? {});
  const split = holdOutOnePerUser(train, options.maxUsers, deriveSeed(o.seed, 61));
  if (split.users.length === 0) return undefined;
  const decomposeFamily = (h: PurchaseHistory, userExponent: number) => decompose(h, o, userExponent, signal);
  return selectLowRank(options, { split, previousExponent: o.userExponent, beta: o.beta, decompose: decomposeFamily, signal });
}

async function decompose(train: PurchaseHistory, o: LowRankOptions, userExponent: number, signal?: AbortSignal): Promise<Eigen> {
  const x = new SparseHistory(train, rowWeights(train, userExponent));
  try {
    return await topEigenpairs(x, {
      rank: o.rank,
      oversample: o.oversample,
      powerIterations: o.powerIterations,
      seed: deriveSeed(o.seed, 41),
      signal,
    });
  } catch (error) {
    throw error instanceof LowRankAborted ? new TrainingCancelledError('train', 0, 0) : error;
  }
}

/** The tables of `knobs` over the whole training part, evaluated on the gate's split. */
async function servedModel(
  train: PurchaseHistory,
  split: HoldoutSplit | undefined,
  eigen: Eigen,
  knobs: TableKnobs,
  weights: Float32Array,
  hooks: TrainingHooks,
  run: { started: number; eigenSeconds: number; options: LowRankMetrics['options']; selection?: LowRankSelection },
): Promise<TrainedLowRank> {
  const k = eigen.values.length;
  const P = train.productRows;
  const { userSide, productSide } = lowRankTables(train, eigen, knobs, gramDiagonal(train, weights));
  try {
    const userFactors = new Float32Array(train.userRows * k);
    try {
      const x = new SparseHistory(train, weights);
      await x.rowsTimes(userSide, (from, _to, rows) => userFactors.set(rows, from * k), hooks.signal);
    } catch (error) {
      throw error instanceof LowRankAborted ? new TrainingCancelledError('train', 0, 0) : error;
    }
    const seconds = (performance.now() - run.started) / 1000;
    hooks.onProgress?.({ kind: 'epoch', epoch: 1, epochs: 1, loss: 0, valLoss: null, seconds, examples: train.products.length });
    if (hooks.signal?.aborted) throw new TrainingCancelledError('train', 1, 0);
    let evaluation: HoldoutEvaluation | undefined;
    if (split && split.users.length > 0) {
      const chunk = Math.max(1, Math.floor(SCORE_CHUNK_FLOATS / P));
      evaluation = await rankHoldout(split, (users) => scoreUsers(userFactors, k, productSide, users), hooks, chunk);
    }
    const productFactors = productSide.dataSync() as Float32Array;
    return {
      weights: { kind: 'dot', userRows: train.userRows, productRows: P, dim: k, userFactors, productFactors },
      split,
      metrics: {
        form: 'lowrank',
        options: run.options,
        ...(run.selection && { selection: run.selection }),
        rank: k,
        spectrum: { largest: eigen.values[0], smallest: eigen.values[k - 1] },
        training: { seconds, eigenSeconds: run.eigenSeconds, tableSeconds: seconds - run.eigenSeconds, pairs: train.products.length },
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

/** Row-major [users.length, products] scores U[users]·Vᵀ. */
function scoreUsers(userFactors: Float32Array, k: number, productSide: tf.Tensor2D, users: Int32Array): Float32Array {
  const rows = new Float32Array(users.length * k);
  for (let i = 0; i < users.length; i++) rows.set(userFactors.subarray(users[i] * k, (users[i] + 1) * k), i * k);
  return readAndDispose(tf.tidy(() => tf.matMul(tf.tensor2d(rows, [users.length, k]), productSide, false, true)));
}
