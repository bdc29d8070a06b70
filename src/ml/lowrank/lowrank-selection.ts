/**
 * Per-retrain choice of the low-rank model's penalty (tables.ts) on a
 * validation split of the training part, like the dense default's
 * (src/ml/linear/selection.ts): one more distinct product held out per
 * sampled training customer; one eigendecomposition — of the rest — prices
 * every candidate of a row weighting (only the k × k Woodbury core and the
 * tables change), and the final tables reuse the winner's with the whole
 * training part's rows. The
 * candidates include the previous fixed default (λI on the rank-k part,
 * λ = 4 × s²_k), so the choice is never below it on that split.
 */
import * as tf from '@tensorflow/tfjs-node';
import { z } from 'zod';
import { rankHoldout, type RankingScores } from '../evaluate';
import type { PurchaseHistory } from '../dataset/purchase-history';
import type { HoldoutSplit } from '../holdout';
import { gramDiagonal, lowRankTables, readAndDispose, type Eigen, type TableKnobs } from './tables';

export const lowRankSelectionSchema = z.strictObject({
  /** λ candidates as multiples of s²_k (the smallest kept eigenvalue) */
  lambdaScales: z.array(z.number().positive()).min(1).default([0.0625, 0.25, 1]),
  /** EDLAE emphasis q candidates (penalty q·diag(G), dropout q/(1 + q)); 0 = the residual diagonal alone */
  emphases: z.array(z.number().min(0)).min(1).default([0, 1, 3, 10, 30, 100]),
  /** validation customers (a seeded sample of the training customers with ≥ 2 distinct products) */
  maxUsers: z.number().int().min(1).default(3000),
  /** row exponents, one eigendecomposition each (binary rows, and n_u^-0.25 as before) */
  userExponents: z.array(z.number().min(0).max(2)).min(1).default([0, 0.25]),
});
export type LowRankSelectionOptions = z.output<typeof lowRankSelectionSchema>;

export interface LowRankCandidate extends RankingScores {
  /** rows of X weighted n_u^-userExponent in the Gram matrix */
  userExponent: number;
  diagonal: 'uniform' | 'residual';
  lambdaScale: number;
  emphasis: number;
}

export interface LowRankSelection {
  protocol: string;
  users: number;
  seconds: number;
  chosen: LowRankCandidate;
  /** the previous fixed default: the chosen one is never below it on this split */
  previousDefault: LowRankCandidate;
  candidates: LowRankCandidate[];
}

export const PREVIOUS_DEFAULT = { diagonal: 'uniform', lambdaScale: 4, emphasis: 0 } as const;

/** Customers scored per chunk: a [chunk, products] float32 block of ~16 MB. */
export const SCORE_CHUNK_FLOATS = 4 * 1024 * 1024;

/** The decomposition of a history's Gram with rows weighted n_u^-exponent (the caller's randomized eigensolver). */
export type Decompose = (history: PurchaseHistory, userExponent: number) => Promise<Eigen>;

export interface SelectionRun {
  /** the validation split of the training part; each decomposition is of split.train */
  split: HoldoutSplit;
  /** the previous fixed default's row exponent: its candidate is priced with that family */
  previousExponent: number;
  beta: number;
  decompose: Decompose;
  signal?: AbortSignal;
}

const better = (a: RankingScores, b: RankingScores) => a.hr10 > b.hr10 || (a.hr10 === b.hr10 && a.ndcg10 > b.ndcg10);

export function candidateKnobs(c: Omit<LowRankCandidate, keyof RankingScores>, lambdaBase: number, beta: number): TableKnobs {
  return { shrinkage: 'ease', lambda: c.lambdaScale * lambdaBase, diagonal: c.diagonal, emphasis: c.emphasis, beta };
}

/**
 * Chooses the row exponent, the diagonal, λ and the emphasis: one
 * decomposition per row exponent prices all of that family's candidates.
 * Returns the choice and the winning family's decomposition (the caller
 * builds the final tables from it and disposes it).
 */
export async function selectLowRank(o: LowRankSelectionOptions, run: SelectionRun): Promise<{ selection: LowRankSelection; eigen: Eigen }> {
  const started = performance.now();
  const candidates: LowRankCandidate[] = [];
  let best: { chosen: LowRankCandidate; eigen: Eigen } | undefined;
  for (const userExponent of o.userExponents) {
    const eigen = await run.decompose(run.split.train, userExponent);
    const priced = await priceFamily(o, run, eigen, userExponent);
    candidates.push(...priced);
    const chosen = priced.reduce((a, b) => (better(b, a) ? b : a));
    if (!best || better(chosen, best.chosen)) {
      best?.eigen.vectors.dispose();
      best = { chosen, eigen };
    } else eigen.vectors.dispose();
  }
  const previousDefault = candidates.find((c) => c.diagonal === 'uniform') ?? candidates[0];
  const selection: LowRankSelection = {
    protocol:
      'validation split of the training part: one more distinct product held out per sampled training customer (seeded); ' +
      'one eigendecomposition of the rest per row exponent prices its candidates; ranked by HR@10 (then NDCG@10)',
    users: run.split.users.length,
    seconds: (performance.now() - started) / 1000,
    chosen: best!.chosen,
    previousDefault,
    candidates,
  };
  return { selection, eigen: best!.eigen };
}

/** One row exponent's candidates (the previous default's too, in its family), each ranked on the validation split. */
async function priceFamily(o: LowRankSelectionOptions, run: SelectionRun, eigen: Eigen, userExponent: number): Promise<LowRankCandidate[]> {
  const { split } = run;
  const diagonal = gramDiagonal(split.train, rowWeights(split.train, userExponent));
  const lambdaBase = spectrumFloor(eigen.values);
  const grid: Omit<LowRankCandidate, keyof RankingScores>[] = [];
  if (userExponent === run.previousExponent) grid.push({ ...PREVIOUS_DEFAULT, userExponent });
  for (const lambdaScale of o.lambdaScales)
    for (const emphasis of o.emphases) grid.push({ diagonal: 'residual', lambdaScale, emphasis, userExponent });
  const candidates: LowRankCandidate[] = [];
  for (const c of grid) {
    const tables = lowRankTables(split.train, eigen, candidateKnobs(c, lambdaBase, run.beta), diagonal);
    try {
      candidates.push({ ...c, ...(await rankValidation(split, tables.userSide, tables.productSide, run.signal)) });
    } finally {
      tables.userSide.dispose();
      tables.productSide.dispose();
    }
  }
  return candidates;
}

/** n_u^-exponent for customers with purchases, 0 for empty rows. */
export function rowWeights(history: PurchaseHistory, exponent: number): Float32Array {
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
export function spectrumFloor(values: Float32Array): number {
  return Math.max(values[values.length - 1], 1e-3 * values[0]);
}

/** HR@10 / NDCG@10 on the validation customers: their rows x·A summed from A's rows, scored against the products. */
async function rankValidation(
  split: HoldoutSplit,
  userSide: tf.Tensor2D,
  productSide: tf.Tensor2D,
  signal?: AbortSignal,
): Promise<RankingScores> {
  const { train } = split;
  const k = userSide.shape[1];
  const a = userSide.dataSync() as Float32Array;
  const rows = new Map<number, Float32Array>();
  for (const u of split.users) {
    const row = new Float32Array(k);
    for (let i = train.userOffsets[u]; i < train.userOffsets[u + 1]; i++) {
      const p = train.products[i] * k;
      for (let c = 0; c < k; c++) row[c] += a[p + c];
    }
    rows.set(u, row);
  }
  const score = (users: Int32Array) => {
    const x = new Float32Array(users.length * k);
    users.forEach((u, i) => x.set(rows.get(u)!, i * k));
    return readAndDispose(tf.tidy(() => tf.matMul(tf.tensor2d(x, [users.length, k]), productSide, false, true)));
  };
  const chunk = Math.max(1, Math.floor(SCORE_CHUNK_FLOATS / train.productRows));
  const e = await rankHoldout(split, score, { signal }, chunk);
  return { hr10: e.hr10, ndcg10: e.ndcg10 };
}

/** One line for the run's details. */
export function describeLowRankSelection(s: LowRankSelection): string {
  const c = s.chosen;
  const penalty = c.diagonal === 'uniform' ? `λI on the rank-k part` : `residual diagonal + EDLAE emphasis ${c.emphasis}`;
  const what = `${penalty}, rows n_u^-${c.userExponent}`;
  const p = s.previousDefault;
  return (
    `${what}, λ ${c.lambdaScale} × s²_k, chosen of ${s.candidates.length} on ${s.users} validation customers (${s.seconds.toFixed(1)} s): ` +
    `HR@10 ${c.hr10.toFixed(4)} / NDCG@10 ${c.ndcg10.toFixed(4)}; previous default ${p.hr10.toFixed(4)} / ${p.ndcg10.toFixed(4)}`
  );
}
