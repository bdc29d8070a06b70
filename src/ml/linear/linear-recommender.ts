/**
 * The default recommender: an item-to-item linear model (EASE, RP3β or a
 * blend; by default EASE on user-weighted rows with a scale-free λ) learned
 * in closed form on the native backend,
 * evaluated with the project's leave-one-out protocol and handed over as
 * dot-product tables for the SavedModel exporter.
 */
import { setImmediate as nextTick } from 'node:timers/promises';
import * as tf from '@tensorflow/tfjs-node';
import { z } from 'zod';
import type { PurchaseHistory } from '../dataset/purchase-history';
import type { DotProductWeights } from '../dot-weights';
import { rankHoldout, type HoldoutEvaluation } from '../evaluate';
import { holdOutOnePerUser, type HoldoutSplit } from '../holdout';
import { TrainingCancelledError, type TrainingHooks } from '../progress';
import { trainLowRankRecommender, type LowRankMetrics } from '../lowrank/lowrank-recommender';
import { blendWeights, easeWeights, gramMatrix, inputColumns, inputRows, meanItemDiagonal, rp3betaWeights } from './item-item';
import { atServingTime, DEFAULT_TIME_CONTEXT, timeContext, timeContextSchema, type RowContext } from './purchase-time';
import {
  admissibleNowShares,
  DEFAULT_USER_EXPONENT,
  selectLinearCandidate,
  selectionSchema,
  selectionSteps,
  type LinearCandidate,
  type LinearSelection,
} from './selection';
import { repeatBoostSchema, selectRepeatBoost, type RepeatBoostSelection } from './repeat-boost';

/** Default EASE share of the blend (validation splits of both data sets, docs/ml.md). */
const SHARE = 1;

export const linearVariants = ['blend', 'ease', 'rp3beta', 'lowrank'] as const;
export type LinearVariant = (typeof linearVariants)[number];

export const linearOptionsSchema = z
  .object({
    variant: z.enum(linearVariants).default('blend'),
    /** EASE L2 strength; without it the blend's EASE part uses lambdaScale × the mean diagonal of its Gram matrix */
    lambda: z.number().positive().optional(),
    /** blend: λ relative to the mean diagonal of XᵀX, so one default fits catalogues of any density (tuned on validation splits, docs/ml.md) */
    lambdaScale: z.number().positive().default(1),
    /** EASE: rows of X weighted by n_u^-userExponent in the Gram matrix */
    userExponent: z.number().min(0).max(2).optional(),
    /** RP3β popularity exponent */
    beta: z.number().min(0).max(2).default(0.5),
    /** blend: share of the (scale-normalised) EASE weights; 1 = EASE alone (RP3β not computed) */
    share: z.number().min(0).max(1).default(SHARE),
    seed: z.number().int().min(0).max(0xffff_ffff).default(42),
    holdout: z.boolean().default(true),
    maxEvalUsers: z.number().int().min(1).default(2000),
    /** lowrank: factors per table (src/ml/lowrank) */
    rank: z.number().int().min(1).max(1024).optional(),
    /** blend: purchase-time context columns (src/ml/linear/purchase-time.ts); bins 0 turns it off */
    time: timeContextSchema.partial().optional(),
    /**
     * blend: choose lambdaScale, the row weighting and the context weight per retrain on a validation split of the
     * training part (src/ml/linear/selection.ts); default on unless `lambda` is given; false keeps the values given
     */
    select: z.boolean().optional(),
    selection: selectionSchema.partial().optional(),
    /** blend: choose the repeat boost per retrain (src/ml/linear/repeat-boost.ts); default: with `select` */
    repeatBoost: z.boolean().optional(),
    repeatBoostSelection: repeatBoostSchema.partial().optional(),
  })
  .strict();
export type LinearOptionsInput = z.input<typeof linearOptionsSchema>;
/** λ is set once the Gram matrix is known (metrics.options carries the value used). */
export type LinearOptions = Omit<
  z.output<typeof linearOptionsSchema>,
  'time' | 'select' | 'selection' | 'repeatBoost' | 'repeatBoostSelection'
> & {
  lambda?: number;
  userExponent: number;
  /** purchase-time context, bins 0 = none */
  time: z.output<typeof timeContextSchema>;
  select: boolean;
  selection: z.output<typeof selectionSchema>;
  repeatBoost: boolean;
  repeatBoostSelection: z.output<typeof repeatBoostSchema>;
};

/**
 * Resolves defaults: the plain EASE anchor uses λ 200 on binary X and no
 * time context; the blend's EASE part λ = lambdaScale × mean diag on
 * n_u^-0.25-weighted X with the purchase-time context.
 */
export function resolveLinearOptions(input: LinearOptionsInput = {}): LinearOptions {
  const o = linearOptionsSchema.parse(input);
  const plain = o.variant === 'ease';
  const withTime = o.variant === 'blend';
  const select = o.select ?? (withTime && o.lambda === undefined);
  return {
    ...o,
    lambda: o.lambda ?? (plain ? 200 : undefined),
    userExponent: o.userExponent ?? (plain ? 0 : DEFAULT_USER_EXPONENT),
    time: { ...DEFAULT_TIME_CONTEXT, ...(withTime ? {} : { bins: 0 }), ...o.time },
    select,
    selection: selectionSchema.parse(o.selection ?? {}),
    repeatBoost: o.repeatBoost ?? select,
    repeatBoostSelection: repeatBoostSchema.parse(o.repeatBoostSelection ?? {}),
  };
}

/** The options a selected candidate stands for (plain EASE = binary rows, no context). */
export function withCandidate(o: LinearOptions, c: LinearCandidate): LinearOptions {
  const time = c.contextWeight > 0 ? { ...o.time, weight: c.contextWeight } : { ...o.time, bins: 0 };
  return { ...o, lambda: undefined, lambdaScale: c.lambdaScale, userExponent: c.userExponent, time };
}

export interface LinearMetrics {
  mode: 'linear';
  variant: LinearVariant;
  options: LinearOptions;
  training: { seconds: number; pairs: number };
  evaluated: boolean;
  evaluation?: HoldoutEvaluation;
  notEvaluatedReason?: string;
  /** dense products × products, or the low-rank form (past MAX_DENSE_PRODUCTS or by variant) */
  form?: 'dense' | 'lowrank';
  lowRank?: LowRankMetrics;
  /** the per-retrain choice of the knobs on the validation split (options then holds the chosen values) */
  selection?: LinearSelection;
  /** the per-retrain choice of the repeat boost (β on W's diagonal, x̃ in the user table) */
  repeatBoost?: RepeatBoostSelection;
}

export interface TrainedLinearRecommender {
  weights: DotProductWeights;
  metrics: LinearMetrics;
  split?: HoldoutSplit;
}

/** Largest catalogue for the dense products × products form (~1.6 GB of float32 per matrix at 20k). */
export const MAX_DENSE_PRODUCTS = 20_000;

/**
 * The weight matrix W [P + context columns, P] of a variant, learned on
 * `history` (inputs: the binary history row, then `context`'s columns), and
 * the EASE λ used (if any).
 */
export function itemItemWeights(history: PurchaseHistory, o: LinearOptions, context?: RowContext): { w: tf.Tensor2D; lambda?: number } {
  if (history.productRows > MAX_DENSE_PRODUCTS) {
    throw new Error(
      `linear model: ${history.productRows} products exceed the dense item-item limit of ${MAX_DENSE_PRODUCTS}; use variant 'lowrank' (trainLinearRecommender switches to it by itself)`,
    );
  }
  const P = history.productRows;
  const C = context?.columns ?? 0;
  const ease = () => {
    const g = gramMatrix(history, o.userExponent, context);
    try {
      const diagonal = meanItemDiagonal(history, o.userExponent);
      const lambda = o.lambda ?? o.lambdaScale * diagonal;
      if (C === 0) return { w: easeWeights(g, lambda, P), lambda };
      // context inputs scaled by a = weight·√(mean diagonal): Gram D·G·D, and a folded into W's context rows so the inputs stay unscaled
      const w = tf.tidy(() => {
        const d = tf.concat([tf.ones([P]), tf.fill([C], o.time.weight * Math.sqrt(diagonal))]);
        const column = tf.reshape(d, [P + C, 1]);
        const scaled = tf.mul(tf.mul(g, column), tf.reshape(d, [1, P + C])) as tf.Tensor2D;
        return tf.mul(easeWeights(scaled, lambda, P), column) as tf.Tensor2D;
      });
      return { w, lambda };
    } finally {
      g.dispose();
    }
  };
  // RP3β knows products only: its context rows are zero
  const rp3beta = () =>
    tf.tidy(
      () =>
        tf.pad(rp3betaWeights(history, o.beta), [
          [0, C],
          [0, 0],
        ]) as tf.Tensor2D,
    );
  if (o.variant === 'ease') return ease();
  if (o.variant === 'rp3beta') return { w: rp3beta() };
  const e = ease();
  if (o.share === 1) return e;
  const r = rp3beta();
  try {
    return { w: blendWeights(e.w, r, o.share), lambda: e.lambda };
  } finally {
    e.w.dispose();
    r.dispose();
  }
}

/** The variant's input context, learned from (and describing) `history`: the purchase-time columns, or none. */
export function inputContext(history: PurchaseHistory, o: LinearOptions): RowContext | undefined {
  return o.time.bins > 0 ? timeContext(history, o.time) : undefined;
}

/**
 * Trains on the leave-one-out training split (with `holdout`), evaluates,
 * and returns the tables of THAT model, so the metrics describe exactly the
 * model that would be deployed. Cancellation is honoured between steps and
 * evaluation chunks; progress is reported as one epoch (closed form) plus
 * the evaluation events.
 */
export async function trainLinearRecommender(
  history: PurchaseHistory,
  input: LinearOptionsInput = {},
  hooks: TrainingHooks = {},
): Promise<TrainedLinearRecommender> {
  const resolved = resolveLinearOptions(input);
  if (resolved.variant === 'lowrank' || history.productRows > MAX_DENSE_PRODUCTS)
    return trainLowRankLinear(history, input, resolved, hooks);
  const started = performance.now();
  const split = resolved.holdout ? holdOutOnePerUser(history, resolved.maxEvalUsers, resolved.seed) : undefined;
  const train = split?.train ?? history;
  if (hooks.signal?.aborted) throw new TrainingCancelledError('train', 0, 0);
  // progress as closed-form "epochs": the selection's steps, then the final fit
  const steps = resolved.select ? selectionSteps(resolved.selection, resolved.time) : 0;
  let step = 0;
  const onStep = () => {
    step++;
    const seconds = (performance.now() - started) / 1000;
    hooks.onProgress?.({ kind: 'epoch', epoch: step, epochs: steps + 1, loss: 0, valLoss: null, seconds, examples: 0 });
  };
  const selection = resolved.select
    ? await selectLinearCandidate(train, resolved.time, resolved.selection, resolved.seed, { signal: hooks.signal, onStep })
    : undefined;
  const o = selection ? withCandidate(resolved, selection.chosen) : resolved;
  if (hooks.signal?.aborted) throw new TrainingCancelledError('train', 0, 0);
  const context = inputContext(train, o);
  const { w, lambda } = itemItemWeights(train, o, context);
  try {
    const boost = o.repeatBoost ? chooseRepeatBoost(train, o, admissibleNowShares(selection)) : undefined;
    const alpha = boost?.chosen.alpha ?? 0;
    // the rows as served: a share of the context at "now", chosen with the boost (docs/ml.md, "The served clock")
    const served = context && atServingTime(context, boost?.chosen.nowShare ?? 0, o.time.bandwidth);
    const seconds = (performance.now() - started) / 1000;
    hooks.onProgress?.({
      kind: 'epoch',
      epoch: steps + 1,
      epochs: steps + 1,
      loss: 0,
      valLoss: null,
      seconds,
      examples: train.products.length,
    });
    await nextTick();
    if (hooks.signal?.aborted) throw new TrainingCancelledError('train', 1, 0);
    let evaluation: HoldoutEvaluation | undefined;
    if (split && split.users.length > 0) {
      evaluation = await rankHoldout(split, (users) => scoreWith(train, w, users, served, alpha), hooks);
    }
    return {
      weights: servedTables(train, w, served, boost),
      split,
      metrics: {
        mode: 'linear',
        variant: o.variant,
        form: 'dense',
        options: { ...o, lambda },
        training: { seconds, pairs: train.products.length },
        ...(selection && { selection }),
        ...(boost && { repeatBoost: boost }),
        evaluated: evaluation !== undefined,
        ...(evaluation
          ? { evaluation }
          : { notEvaluatedReason: split ? 'no customer has at least 2 distinct products to hold one out' : 'holdout disabled by options' }),
      },
    };
  } finally {
    w.dispose();
  }
}

/** The low-rank form with the seed, sample and (explicitly given) λ / row exponent of the linear options. */
async function trainLowRankLinear(
  history: PurchaseHistory,
  input: LinearOptionsInput,
  o: LinearOptions,
  hooks: TrainingHooks,
): Promise<TrainedLinearRecommender> {
  const t = await trainLowRankRecommender(
    history,
    {
      seed: o.seed,
      holdout: o.holdout,
      maxEvalUsers: o.maxEvalUsers,
      ...(o.rank !== undefined && { rank: o.rank }),
      ...(input.lambda !== undefined && { lambda: input.lambda }),
      ...(input.userExponent !== undefined && { userExponent: input.userExponent }),
    },
    hooks,
  );
  const m = t.metrics;
  return {
    weights: t.weights,
    split: t.split,
    metrics: {
      mode: 'linear',
      variant: 'lowrank',
      form: 'lowrank',
      options: { ...o, lambda: m.options.lambda, userExponent: m.options.userExponent, rank: m.rank },
      training: { seconds: m.training.seconds, pairs: m.training.pairs },
      evaluated: m.evaluated,
      ...(m.evaluation ? { evaluation: m.evaluation } : { notEvaluatedReason: m.notEvaluatedReason }),
      lowRank: m,
    },
  };
}

/**
 * The repeat boost and the served rows' share at "now" (of `nowShares`), chosen on a latest-purchase split
 * of `train`, refitting the chosen model there.
 */
function chooseRepeatBoost(train: PurchaseHistory, o: LinearOptions, nowShares: number[]): RepeatBoostSelection | undefined {
  const fit = (t: PurchaseHistory) => {
    const context = inputContext(t, o);
    return { w: itemItemWeights(t, o, context).w, context };
  };
  return selectRepeatBoost(train, o.repeatBoostSelection, o.seed, fit, { nowShares, bandwidth: o.time.bandwidth });
}

/**
 * The dot-product tables of W as served: productFactors[i, j] = W[j, i], so the dot product is
 * x_u · W[:, i] (x_u: history row, then context); with a repeat boost, W's diagonal holds β and the
 * history row x̃ (repeat-boost.ts).
 */
function servedTables(
  train: PurchaseHistory,
  w: tf.Tensor2D,
  context: RowContext | undefined,
  boost?: RepeatBoostSelection,
): DotProductWeights {
  const P = train.productRows;
  const dim = inputColumns(train, context);
  const productFactors = transposedData(w);
  const beta = boost?.chosen.beta ?? 0;
  if (beta !== 0) for (let i = 0; i < P; i++) productFactors[i * dim + i] += beta;
  return {
    kind: 'dot',
    userRows: train.userRows,
    productRows: P,
    dim,
    userFactors: inputRows(train, undefined, context, undefined, boost?.chosen.alpha ?? 0),
    productFactors,
  };
}

/** Wᵀ's values, row-major (read outside tf.tidy, which walks a returned typed array element by element). */
function transposedData(w: tf.Tensor2D): Float32Array {
  const t = tf.transpose(w);
  try {
    return t.dataSync() as Float32Array;
  } finally {
    t.dispose();
  }
}

function scoreWith(history: PurchaseHistory, w: tf.Tensor2D, users: Int32Array, context?: RowContext, countWeight = 0): Float32Array {
  const x = tf.tensor2d(inputRows(history, users, context, undefined, countWeight), [users.length, inputColumns(history, context)]);
  const s = tf.matMul(x, w);
  try {
    return s.dataSync() as Float32Array;
  } finally {
    x.dispose();
    s.dispose();
  }
}
