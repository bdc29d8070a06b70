/**
 * The repeat boost (docs/ml.md, "The next basket"): customers buy again
 * what they bought before, and the item-item model gives a product no
 * credit for being in the customer's own history (EASE's diagonal is zero).
 * The served score adds β·x̃_ui for the customer's own products, with
 * x̃_ui = 1 + α·ln(count): W's diagonal holds β and the user table's history
 * part holds x̃, so the SavedModel's dot product computes it as is.
 *
 * β = k × S (S: the mean best score of the validation customers, so k is
 * free of the scores' scale) is chosen per retrain on a LATEST-BASKET
 * validation split of the training part (the next-basket protocol inside
 * it): each sampled customer's latest basket is held out — a product bought
 * before it loses one purchase, a new one is removed — and every candidate
 * ranks ALL products, bought ones included, as served. k 0 (the plain
 * model) is a candidate, so the boost never lowers that split's hit rate.
 * The gate's leave-one-out HR@10 ranks unbought products only, so the
 * boost cannot game it.
 */
import * as tf from '@tensorflow/tfjs-node';
import { z } from 'zod';
import type { PurchaseHistory } from '../dataset/purchase-history';
import { RANK_CUTOFF } from '../ranking-metrics';
import { deriveSeed, Random } from '../random';
import { inputColumns, inputRows } from './item-item';
import { atServingTime, type RowContext } from './purchase-time';

/** ln-count weight of the candidate that puts bought products first, by the customer's own count. */
export const COUNT_WEIGHT = 0.01;

export const repeatBoostSchema = z.strictObject({
  /** k candidates: β = k × the mean best validation score; the largest puts bought products first, by own count */
  scales: z.array(z.number().min(0)).min(1).default([0, 0.25, 0.5, 1, 2, 4, 1e4]),
  /** validation customers (a seeded sample of the training customers with an earlier basket than their latest) */
  maxUsers: z.number().int().min(1).default(3000),
});
export type RepeatBoostOptions = z.output<typeof repeatBoostSchema>;

export interface RepeatBoostCandidate {
  /** the share of the rows' context at "now" (purchase-time.ts, atServingTime; 0 without context) */
  nowShare: number;
  k: number;
  /** ln-count weight α of x̃ (COUNT_WEIGHT for the "by own count" candidate, else 0) */
  alpha: number;
  /** HR@10 on the latest-basket split, all products ranked */
  hr10: number;
}

/** What the choice measured; JSON, carried in the model's metrics. */
export interface RepeatBoostSelection {
  protocol: string;
  users: number;
  /** of them, customers whose latest basket repeats a product bought before */
  repeats: number;
  /** S: β = k × S */
  scale: number;
  chosen: RepeatBoostCandidate & { beta: number };
  candidates: RepeatBoostCandidate[];
}

export const REPEAT_BOOST_PROTOCOL =
  "latest-basket split of the training part: each sampled customer's latest basket (data line) is held out (a product " +
  'bought before it loses one purchase, a new one is removed); every candidate ranks all products, bought ones included, ' +
  'as served; HR@10 = share of customers with a product of that basket in the top 10';

const STREAM = 71;

export interface LatestBasketSplit {
  train: PurchaseHistory;
  users: Int32Array;
  /** each customer's latest basket (distinct products), held out */
  baskets: Int32Array[];
  /** customers whose latest basket repeats a product bought before */
  repeats: number;
}

/** The pair indices of customer u's latest basket, or none when u has no earlier basket to learn from. */
function latestBasketPairs(h: PurchaseHistory, u: number): number[] {
  const from = h.userOffsets[u];
  const to = h.userOffsets[u + 1];
  let last = -1;
  for (let k = from; k < to; k++) last = Math.max(last, h.lastBaskets[k]);
  const pairs: number[] = [];
  let earlier = false;
  for (let k = from; k < to; k++) {
    if (h.lastBaskets[k] === last) pairs.push(k);
    if (h.lastBaskets[k] !== last || h.counts[k] >= 2) earlier = true;
  }
  return earlier ? pairs : [];
}

/**
 * Holds out each sampled customer's latest basket: a product bought before
 * it loses one purchase (a repeat), a product first bought in it is removed.
 */
export function latestBasketSplit(h: PurchaseHistory, maxUsers: number, seed: number): LatestBasketSplit {
  const eligible: number[] = [];
  for (let u = 0; u < h.userRows; u++) if (latestBasketPairs(h, u).length > 0) eligible.push(u);
  let users = Int32Array.from(eligible);
  if (users.length > maxUsers) {
    new Random(deriveSeed(seed, STREAM)).shuffle(users);
    users = users.slice(0, maxUsers).sort();
  }
  const counts = Int32Array.from(h.counts);
  const removed = new Set<number>();
  let repeats = 0;
  const baskets = [...users].map((u) => {
    const pairs = latestBasketPairs(h, u);
    let repeat = false;
    for (const k of pairs) {
      if (counts[k] >= 2) {
        counts[k]--;
        repeat = true;
      } else removed.add(k);
    }
    if (repeat) repeats++;
    return Int32Array.from(pairs.map((k) => h.products[k]));
  });
  return { train: keepPairs(h, counts, removed), users, baskets, repeats };
}

function keepPairs(h: PurchaseHistory, counts: Int32Array, removed: Set<number>): PurchaseHistory {
  const keep: number[] = [];
  const userOffsets = new Int32Array(h.userRows + 1);
  for (let u = 0; u < h.userRows; u++) {
    userOffsets[u] = keep.length;
    for (let k = h.userOffsets[u]; k < h.userOffsets[u + 1]; k++) if (!removed.has(k)) keep.push(k);
  }
  userOffsets[h.userRows] = keep.length;
  const pick = <T extends Int32Array | Float32Array>(from: T, make: (n: number) => T): T => {
    const out = make(keep.length);
    keep.forEach((k, i) => (out[i] = from[k]));
    return out;
  };
  return {
    ...h,
    source: `${h.source} (latest-basket validation split)`,
    userOffsets,
    products: pick(h.products, (n) => new Int32Array(n)),
    counts: pick(counts, (n) => new Int32Array(n)),
    positions: pick(h.positions, (n) => new Float32Array(n)),
    lastBaskets: pick(h.lastBaskets, (n) => new Int32Array(n)),
  };
}

/** Scores [users, P] of the rows x̃ (ln-count weight `alpha`) under W with β on its diagonal. */
function servedScores(split: LatestBasketSplit, w: tf.Tensor2D, context: RowContext | undefined, alpha: number): Float32Array {
  const { train, users } = split;
  const t = tf.tidy(() =>
    tf.matMul(tf.tensor2d(inputRows(train, users, context, undefined, alpha), [users.length, inputColumns(train, context)]), w),
  );
  try {
    return t.dataSync() as Float32Array;
  } finally {
    t.dispose();
  }
}

/** Whether any of `basket` is in the top 10 of `row` (ties to the lower id, as the serving ranking). */
function hitsTopTen(row: Float32Array, basket: Int32Array): boolean {
  for (const product of basket) {
    const s = row[product];
    let above = 0;
    for (let p = 0; p < row.length && above < RANK_CUTOFF; p++) if (row[p] > s || (row[p] === s && p < product)) above++;
    if (above < RANK_CUTOFF) return true;
  }
  return false;
}

/** HR@10 of a candidate: base scores plus β·x̃ for each customer's own products. */
function hitRate(split: LatestBasketSplit, base: Float32Array, beta: number, alpha: number): number {
  const { train, users, baskets } = split;
  const P = train.productRows;
  const row = new Float32Array(P);
  let hits = 0;
  users.forEach((u, i) => {
    row.set(base.subarray(i * P, (i + 1) * P));
    for (let k = train.userOffsets[u]; k < train.userOffsets[u + 1]; k++)
      row[train.products[k]] += beta * (1 + alpha * Math.log(train.counts[k]));
    if (hitsTopTen(row, baskets[i])) hits++;
  });
  return users.length ? hits / users.length : 0;
}

/** S: the mean best score of the validation customers (β's unit), or 1 when that is not positive. */
function scoreScale(base: Float32Array, users: number, P: number): number {
  let sum = 0;
  for (let i = 0; i < users; i++) {
    let best = Number.NEGATIVE_INFINITY;
    for (let p = 0; p < P; p++) best = Math.max(best, base[i * P + p]);
    sum += best;
  }
  const s = users ? sum / users : 0;
  return s > 0 ? s : 1;
}

/** The served rows' clock the choice may take: shares of the context at "now" (selection.ts, admissibleNowShares). */
export interface ServingClock {
  nowShares: number[];
  bandwidth: number;
}

/**
 * Chooses β, and with context the share of the rows' context at "now", on
 * the latest-basket split: `fit` trains the (already selected) model on the
 * split's training part and returns its W and context (the caller disposes
 * W). Undefined when no customer qualifies.
 */
export function selectRepeatBoost(
  history: PurchaseHistory,
  o: RepeatBoostOptions,
  seed: number,
  fit: (train: PurchaseHistory) => { w: tf.Tensor2D; context?: RowContext },
  clock: ServingClock = { nowShares: [0], bandwidth: 1 },
): RepeatBoostSelection | undefined {
  const split = latestBasketSplit(history, o.maxUsers, deriveSeed(seed, STREAM));
  if (split.users.length === 0) return undefined;
  const { w, context } = fit(split.train);
  const P = history.productRows;
  const candidates: RepeatBoostCandidate[] = [];
  let scale = 1;
  try {
    const base = new Map<string, Float32Array>();
    const baseOf = (nowShare: number, alpha: number) => {
      const key = `${nowShare}/${alpha}`;
      const cached = base.get(key);
      if (cached) return cached;
      const scores = servedScores(split, w, context && atServingTime(context, nowShare, clock.bandwidth), alpha);
      base.set(key, scores);
      return scores;
    };
    scale = scoreScale(baseOf(0, 0), split.users.length, P);
    const largest = Math.max(...o.scales);
    for (const nowShare of context ? clock.nowShares : [0])
      for (const k of o.scales) {
        const alpha = k === largest && k > 0 ? COUNT_WEIGHT : 0;
        candidates.push({ nowShare, k, alpha, hr10: hitRate(split, baseOf(nowShare, alpha), k * scale, alpha) });
      }
  } finally {
    w.dispose();
  }
  const chosen = candidates.reduce((a, b) => (preferred(b, a) ? b : a));
  return {
    protocol: REPEAT_BOOST_PROTOCOL,
    users: split.users.length,
    repeats: split.repeats,
    scale,
    chosen: { ...chosen, beta: chosen.k * scale },
    candidates,
  };
}

/** The highest hit rate; between equal ones the smaller share at "now", then the smaller boost. */
function preferred(b: RepeatBoostCandidate, a: RepeatBoostCandidate): boolean {
  if (b.hr10 !== a.hr10) return b.hr10 > a.hr10;
  return b.nowShare !== a.nowShare ? b.nowShare < a.nowShare : b.k < a.k;
}

/** One line for the run's details. */
export function describeRepeatBoost(r: RepeatBoostSelection): string {
  const c = r.chosen;
  const plain = r.candidates.find((x) => x.k === 0 && x.nowShare === 0);
  const shares = new Set(r.candidates.map((x) => x.nowShare));
  const clock = shares.size > 1 ? `, ${c.nowShare * 100} % of the context at "now" (of ${[...shares].join(' / ')})` : '';
  const what =
    c.k === 0
      ? 'none'
      : c.alpha > 0
        ? 'bought products first, by own count'
        : `β ${c.beta.toPrecision(3)} (${c.k} × ${r.scale.toPrecision(3)})`;
  return (
    `repeat boost ${what}${clock}: HR@10 ${c.hr10.toFixed(4)} on ${r.users} latest baskets (${r.repeats} with a repeat), ` +
    `without either ${plain ? plain.hr10.toFixed(4) : 'n/a'}`
  );
}
