/**
 * Per-retrain choice of the default linear model's knobs (λ, row weighting,
 * purchase-time context strength) on a VALIDATION split carved from the
 * training part: one more distinct product held out per sampled training
 * customer (the gate's held-out pairs are not in the training part at all).
 * The candidates always include plain EASE (binary rows, no context), so the
 * chosen model is never worse than plain EASE on that split by construction.
 *
 * Every λ of one Gram matrix G is priced from one eigendecomposition
 * G = V·diag(s)·Vᵀ: P(λ) = (G + λI)⁻¹ = V·diag(1/(s + λ))·Vᵀ and EASE's
 * B = I − P·diag(1/diag P) has a zero diagonal exactly, so for a product j a
 * customer has not bought the score is −(x·P)_j / P_jj, with
 * x·P = (x·V)·diag(1/(s + λ))·Vᵀ and P_jj = Σ_k V_jk² / (s_k + λ).
 */
import * as tf from '@tensorflow/tfjs-node';
import { z } from 'zod';
import type { PurchaseHistory } from '../dataset/purchase-history';
import { rankHoldout, type RankingScores } from '../evaluate';
import { holdOutOnePerUser, type HoldoutSplit } from '../holdout';
import { TrainingCancelledError } from '../progress';
import { deriveSeed } from '../random';
import { symmetricEigen } from '../lowrank/native-linalg';
import { gramMatrix, inputColumns, inputRows, meanItemDiagonal } from './item-item';
import { atServingTime, timeContext, type RowContext, type TimeContextOptions } from './purchase-time';

export const selectionSchema = z.strictObject({
  /** λ candidates, as multiples of the mean item diagonal of each family's Gram matrix */
  lambdaScales: z.array(z.number().positive()).min(1).default([0.25, 0.5, 1, 2, 4, 8]),
  /** purchase-time context strengths of the weighted family (0 = no context) */
  contextWeights: z.array(z.number().min(0).max(1000)).min(1).default([0, 0.17]),
  /** validation customers (a seeded sample of the training customers with ≥ 2 distinct products) */
  maxUsers: z.number().int().min(1).default(3000),
  /** shares of the served rows' context moved to "now" that the serving choice may take (docs/ml.md, "The served clock") */
  nowShares: z.array(z.number().min(0).max(1)).min(1).default([0, 0.25, 0.5, 0.75, 1]),
});
export type SelectionOptions = z.output<typeof selectionSchema>;

/** The weighted family's row exponent (n_u^-0.25, docs/ml.md); the plain-EASE family uses binary rows. */
export const DEFAULT_USER_EXPONENT = 0.25;

export interface LinearCandidate {
  /** 'ease': binary rows, no context (plain EASE); 'weighted': n_u^-0.25 rows, context at contextWeight */
  family: 'ease' | 'weighted';
  userExponent: number;
  lambdaScale: number;
  contextWeight: number;
}

export interface ScoredCandidate extends LinearCandidate, RankingScores {
  /** the absolute λ on the validation training part */
  lambda: number;
  /** the chosen candidate, with context: its figures with each share of its rows' context at "now" (share 0 = the figures above) */
  clocks?: ClockScore[];
}

/** What the selection measured; JSON, carried in the model's metrics. */
export interface LinearSelection {
  protocol: string;
  /** validation customers (one held-out product each) */
  users: number;
  seed: number;
  seconds: number;
  chosen: ScoredCandidate;
  /** the best plain-EASE candidate: the chosen one is never below it on this split */
  plainEase: ScoredCandidate;
  candidates: ScoredCandidate[];
}

export const SELECTION_PROTOCOL =
  'validation split of the training part: one more distinct product held out per sampled training customer (seeded); ' +
  'every candidate trained on the rest and ranked by HR@10 (then NDCG@10) on those; plain EASE is always a candidate';

const VALIDATION_STREAM = 61;

/** Context columns multiplied by `a` (the Gram then holds a·t, penalised as λ/a²). */
function scaled(context: RowContext, a: number): RowContext {
  return { columns: context.columns, rows: context.rows.map((v) => v * a) };
}

/**
 * EASE scores of fixed input rows x for any λ from one eigendecomposition
 * of the Gram matrix (see the file comment). Valid for the products a row
 * has not bought (the ones ranked); the caller disposes.
 */
export class EaseSpectrum {
  private readonly s: tf.Tensor1D;
  private readonly vectors: tf.Tensor2D;
  private readonly xv: tf.Tensor2D[] = [];
  private readonly vOut: tf.Tensor2D;
  private readonly vOutSquared: tf.Tensor2D;

  /** `gram` [N, N] (inputs: products, then any context columns), `x` [rows, N], `outputs` = products. */
  constructor(gram: tf.Tensor2D, x: tf.Tensor2D, outputs: number) {
    const eig = symmetricEigen(gram);
    const N = gram.shape[0];
    this.s = tf.tidy(() => tf.relu(eig.values)); // round-off can leave tiny negative eigenvalues of a Gram matrix
    eig.values.dispose();
    this.vectors = eig.vectors;
    this.vOut = tf.tidy(() => tf.slice(eig.vectors, [0, 0], [outputs, N])); // the product rows of V
    this.vOutSquared = tf.tidy(() => tf.square(this.vOut));
    this.withRows(x);
  }

  /** Another set of input rows [rows, N] (x·V once; each λ is then one [rows, N] × [N, outputs] product); its index. */
  withRows(x: tf.Tensor2D): number {
    return this.xv.push(tf.matMul(x, this.vectors)) - 1;
  }

  /** Row-major [rows, outputs] scores of the `set`-th rows under λ: −(x·P)_j / P_jj. */
  scores(lambda: number, set = 0): Float32Array {
    const t = tf.tidy(() => {
      const f = tf.div(1, tf.add(this.s, lambda));
      const xp = tf.matMul(tf.mul(this.xv[set], f), this.vOut, false, true);
      const diag = tf.matMul(tf.reshape(f, [1, -1]), this.vOutSquared, false, true); // [1, outputs] = P_jj
      return tf.neg(tf.div(xp, diag));
    });
    try {
      return t.dataSync() as Float32Array; // read outside tidy: tidy walks a returned typed array element by element
    } finally {
      t.dispose();
    }
  }

  dispose(): void {
    tf.dispose([this.s, this.vectors, ...this.xv, this.vOut, this.vOutSquared]);
  }
}

/**
 * Cancellation, and a step callback after each decomposition and each λ ranked: a large catalogue's selection
 * takes minutes, and the training activity heartbeats on these steps.
 */
export interface SelectionProgress {
  signal?: AbortSignal;
  onStep?: () => void;
}

/** A candidate's validation figures with a share of its rows' context at "now" (purchase-time.ts, atServingTime). */
export interface ClockScore extends RankingScores {
  nowShare: number;
}

/** One validation ranking of a spectrum's `set`-th rows under λ. */
async function rankOne(
  split: HoldoutSplit,
  spectrum: EaseSpectrum,
  lambda: number,
  set: number,
  signal?: AbortSignal,
): Promise<RankingScores> {
  const scores = spectrum.scores(lambda, set);
  const e = await rankHoldout(split, () => scores, { signal }, split.users.length);
  return { hr10: e.hr10, ndcg10: e.ndcg10 };
}

/**
 * Ranks the validation products under every λ of one family's Gram matrix,
 * from one eigendecomposition; returns the spectrum too (the caller disposes
 * it), so that the chosen candidate can be priced with other rows.
 */
async function priceLambdas(
  split: HoldoutSplit,
  g: tf.Tensor2D,
  context: RowContext | undefined,
  lambdas: number[],
  progress: SelectionProgress,
): Promise<{ results: RankingScores[]; spectrum: EaseSpectrum }> {
  const { train } = split;
  const x = tf.tensor2d(inputRows(train, split.users, context), [split.users.length, inputColumns(train, context)]);
  const spectrum = new EaseSpectrum(g, x, train.productRows);
  x.dispose();
  progress.onStep?.();
  try {
    const results: RankingScores[] = [];
    for (const lambda of lambdas) {
      results.push(await rankOne(split, spectrum, lambda, 0, progress.signal));
      progress.onStep?.();
    }
    return { results, spectrum };
  } catch (err) {
    spectrum.dispose();
    throw err;
  }
}

/** The chosen candidate's figures with each share of its rows' (scaled) context at "now": same model, other rows. */
async function priceClocks(
  split: HoldoutSplit,
  spectrum: EaseSpectrum,
  context: RowContext,
  chosen: ScoredCandidate,
  clock: { nowShares: number[]; bandwidth: number },
): Promise<ClockScore[]> {
  const { train } = split;
  const clocks: ClockScore[] = [{ nowShare: 0, hr10: chosen.hr10, ndcg10: chosen.ndcg10 }];
  for (const nowShare of clock.nowShares.filter((x) => x > 0)) {
    const rows = atServingTime(context, nowShare, clock.bandwidth);
    const x = tf.tensor2d(inputRows(train, split.users, rows), [split.users.length, inputColumns(train, rows)]);
    const set = spectrum.withRows(x);
    x.dispose();
    clocks.push({ nowShare, ...(await rankOne(split, spectrum, chosen.lambda, set)) });
  }
  return clocks;
}

/** Plain EASE, then the weighted family at each context weight (only 0 without context columns). */
function selectionFamilies(o: SelectionOptions, time: TimeContextOptions): LinearCandidate[] {
  const families: LinearCandidate[] = [{ family: 'ease', userExponent: 0, lambdaScale: 1, contextWeight: 0 }];
  for (const w of o.contextWeights)
    if (w === 0 || time.bins > 0)
      families.push({ family: 'weighted', userExponent: DEFAULT_USER_EXPONENT, lambdaScale: 1, contextWeight: w });
  return families;
}

/** Progress steps of a selection: each family's decomposition and each of its λ. */
export function selectionSteps(o: SelectionOptions, time: TimeContextOptions): number {
  return selectionFamilies(o, time).length * (o.lambdaScales.length + 1);
}

const better = (a: ScoredCandidate, b: ScoredCandidate) => a.hr10 > b.hr10 || (a.hr10 === b.hr10 && a.ndcg10 > b.ndcg10);

/**
 * Chooses λ, the row weighting and the context strength on a validation
 * split of `train` (the training part of the gate's split). `time` gives
 * the context's bins and bandwidth; its weight is what is chosen.
 */
export async function selectLinearCandidate(
  train: PurchaseHistory,
  time: TimeContextOptions,
  o: SelectionOptions,
  seed: number,
  progress: SelectionProgress = {},
): Promise<LinearSelection | undefined> {
  const started = performance.now();
  const validationSeed = deriveSeed(seed, VALIDATION_STREAM);
  const split = holdOutOnePerUser(train, o.maxUsers, validationSeed);
  if (split.users.length === 0) return undefined;
  const families = selectionFamilies(o, time);
  const candidates: ScoredCandidate[] = [];
  const context = time.bins > 0 ? timeContext(split.train, time) : undefined;
  const P = train.productRows;
  // one Gram per row weighting, with the (unscaled) context columns; each family's is a scaled sub-block of it
  const grams = new Map<number, tf.Tensor2D>();
  // the spectra of the families with context, kept to price the chosen one's served clock
  const spectra = new Map<LinearCandidate, { spectrum: EaseSpectrum; context: RowContext }>();
  try {
    for (const f of families) {
      if (progress.signal?.aborted) throw new TrainingCancelledError('train', 0, 0);
      const full = grams.get(f.userExponent) ?? gramMatrix(split.train, f.userExponent, f.family === 'weighted' ? context : undefined);
      grams.set(f.userExponent, full);
      const diagonal = meanItemDiagonal(split.train, f.userExponent);
      // context columns scaled by a = weight·√(mean diagonal): their strength relative to the history columns is density-free
      const a = f.contextWeight * Math.sqrt(diagonal);
      const c = a > 0 && context ? scaled(context, a) : undefined;
      const g = tf.tidy(() => {
        if (!c) return tf.slice(full, [0, 0], [P, P]) as tf.Tensor2D;
        const d = tf.concat([tf.ones([P]), tf.fill([c.columns], a)]);
        return tf.mul(tf.mul(full, tf.reshape(d, [-1, 1])), tf.reshape(d, [1, -1])) as tf.Tensor2D;
      });
      const lambdas = o.lambdaScales.map((k) => k * diagonal);
      const { results, spectrum } = await priceLambdas(split, g, c, lambdas, progress).finally(() => g.dispose());
      if (c) spectra.set(f, { spectrum, context: c });
      else spectrum.dispose();
      results.forEach((r, i) => candidates.push({ ...f, lambdaScale: o.lambdaScales[i], lambda: lambdas[i], ...r }));
    }
    const chosen = candidates.reduce((a, b) => (better(b, a) ? b : a));
    const family = [...spectra.keys()].find((f) => f.family === chosen.family && f.contextWeight === chosen.contextWeight);
    if (family)
      chosen.clocks = await priceClocks(split, spectra.get(family)!.spectrum, spectra.get(family)!.context, chosen, clockOf(o, time));
    const plainEase = candidates.filter((c) => c.family === 'ease').reduce((a, b) => (better(b, a) ? b : a));
    const seconds = (performance.now() - started) / 1000;
    return { protocol: SELECTION_PROTOCOL, users: split.users.length, seed: validationSeed, seconds, chosen, plainEase, candidates };
  } finally {
    for (const g of grams.values()) g.dispose();
    for (const { spectrum } of spectra.values()) spectrum.dispose();
  }
}

const clockOf = (o: SelectionOptions, time: TimeContextOptions) => ({ nowShares: o.nowShares, bandwidth: time.bandwidth });

/** One line for the run's details: the chosen knobs and the validation figures beside the best plain EASE. */
export function describeSelection(s: LinearSelection): string {
  const c = s.chosen;
  const what = c.family === 'ease' ? 'plain EASE' : `n_u^-${c.userExponent} rows, context weight ${c.contextWeight}`;
  const pe = s.plainEase;
  return (
    `${what}, λ ${c.lambda.toFixed(1)} (${c.lambdaScale} × mean diagonal), chosen of ${s.candidates.length} on ${s.users} validation customers ` +
    `(${s.seconds.toFixed(1)} s): HR@10 ${c.hr10.toFixed(4)} / NDCG@10 ${c.ndcg10.toFixed(4)}; best plain EASE (λ ${pe.lambda.toFixed(1)}) ` +
    `${pe.hr10.toFixed(4)} / ${pe.ndcg10.toFixed(4)}`
  );
}

/**
 * The shares of the served rows' context at "now" that keep the chosen
 * model at or above the best plain EASE on this validation split: the
 * serving choice (repeat-boost.ts) takes one of them, so the deployed rows
 * keep the selection's guarantee. Share 0 always qualifies.
 */
export function admissibleNowShares(s: LinearSelection | undefined): number[] {
  const clocks = s?.chosen.clocks;
  if (!s || !clocks) return [0];
  return clocks.filter((c) => c.nowShare === 0 || c.hr10 >= s.plainEase.hr10).map((c) => c.nowShare);
}
