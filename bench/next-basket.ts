/**
 * The next-basket protocol of bench:quality: each customer's LAST line (basket)
 * of the purchase file is held out and the models are trained on every
 * line before it. A hit = any product of that basket in the top 10.
 *
 * - all: every product ranked (bought ones included), relevant = the basket;
 * - repeat: customers whose basket holds a product they bought before,
 *   relevant = those products, same ranking as "all";
 * - explore: customers whose basket holds a new product, products bought
 *   before excluded from the ranking, relevant = the new ones.
 *
 * NDCG@10 = DCG / ideal DCG with binary relevance.
 */
import { readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { readPurchases, type PurchaseHistory } from '../src/ml';
import { popularityRanking } from '../src/ml/popularity';
import { RANK_CUTOFF } from '../src/ml/ranking-metrics';
import type { DotProductWeights } from '../src/ml/dot-weights';
import { DEFAULT_TIME_CONTEXT } from '../src/ml/linear/purchase-time';

export interface NextBasketSplit {
  train: PurchaseHistory;
  /** customers with a held-out basket and at least one earlier line, ascending */
  users: Int32Array;
  /** each customer's held-out basket (distinct products) */
  baskets: Int32Array[];
}

/** Splits a customerId,products file into all lines but each customer's last, and those last baskets. */
export async function nextBasketSplit(file: string): Promise<NextBasketSplit> {
  const lines = (await readFile(file, 'utf8')).split(/\r?\n/);
  const last = new Map<number, number>();
  const count = new Map<number, number>();
  const customerOf = (line: string) => Number(line.slice(0, line.indexOf(',')).replace(/"/g, '').trim());
  for (let i = 1; i < lines.length; i++) {
    if (lines[i].trim() === '') continue;
    const u = customerOf(lines[i]);
    last.set(u, i);
    count.set(u, (count.get(u) ?? 0) + 1);
  }
  const held = new Set([...last.entries()].filter(([u]) => count.get(u)! >= 2).map(([, i]) => i));
  const kept = lines.filter((_, i) => !held.has(i));
  const train = await readPurchases(Readable.from([kept.join('\n')]), { source: `${file} (all but each customer's last basket)` });
  const users = Int32Array.from([...held].map((i) => customerOf(lines[i]))).sort();
  const basketOf = new Map([...held].map((i) => [customerOf(lines[i]), lines[i]]));
  const baskets = [...users].map((u) => {
    const products = basketOf
      .get(u)!
      .slice(basketOf.get(u)!.indexOf(',') + 1)
      .replace(/"/g, '');
    return Int32Array.from(new Set(products.split('|').map((p) => Number(p.trim()))));
  });
  return { train, users, baskets };
}

export interface NextBasketScores {
  customers: number;
  hr10: number;
  ndcg10: number;
  /** per customer of the slice, in the split's order: 1 for a hit, else 0 (the same customers for every model: paired) */
  hits: Float64Array;
}

export interface NextBasketResult {
  all: NextBasketScores;
  repeat: NextBasketScores;
  explore: NextBasketScores;
}

class Accumulator {
  private n = 0;
  private readonly hits: number[] = [];
  private ndcg = 0;

  /** top: the ranked top-10 product ids; relevant: a set of products */
  add(top: number[], relevant: Set<number>): void {
    if (relevant.size === 0) return;
    this.n++;
    let dcg = 0;
    top.forEach((p, r) => {
      if (relevant.has(p)) dcg += 1 / Math.log2(r + 2);
    });
    let ideal = 0;
    for (let r = 0; r < Math.min(relevant.size, RANK_CUTOFF); r++) ideal += 1 / Math.log2(r + 2);
    this.hits.push(dcg > 0 ? 1 : 0);
    this.ndcg += dcg / ideal;
  }

  result(): NextBasketScores {
    const hits = Float64Array.from(this.hits);
    const hr10 = this.n ? hits.reduce((a, b) => a + b, 0) / this.n : 0;
    return { customers: this.n, hr10, ndcg10: this.n ? this.ndcg / this.n : 0, hits };
  }
}

/** Top 10 of one score row (descending, ties to the lower id), skipping `skip`. */
function topTen(scores: Float32Array, offset: number, P: number, skip?: Set<number>): number[] {
  const top: number[] = [];
  for (let p = 0; p < P; p++) {
    if (skip?.has(p)) continue;
    const s = scores[offset + p];
    if (top.length === RANK_CUTOFF && s <= scores[offset + top[RANK_CUTOFF - 1]]) continue;
    let i = top.length;
    while (i > 0 && scores[offset + top[i - 1]] < s) i--;
    top.splice(i, 0, p);
    if (top.length > RANK_CUTOFF) top.pop();
  }
  return top;
}

/** Scores every held-out basket with `score(users)` ([users, P] row-major), in chunks. */
export function evaluateNextBasket(split: NextBasketSplit, score: (users: Int32Array) => Float32Array, chunk = 2048): NextBasketResult {
  const { train } = split;
  const P = train.productRows;
  const all = new Accumulator();
  const repeat = new Accumulator();
  const explore = new Accumulator();
  for (let from = 0; from < split.users.length; from += chunk) {
    const users = split.users.subarray(from, Math.min(split.users.length, from + chunk));
    const scores = score(users);
    users.forEach((u, i) => {
      const bought = new Set(train.products.subarray(train.userOffsets[u], train.userOffsets[u + 1]));
      const basket = split.baskets[from + i].filter((p) => p < P);
      const top = topTen(scores, i * P, P);
      all.add(top, new Set(basket));
      repeat.add(top, new Set(basket.filter((p) => bought.has(p))));
      explore.add(topTen(scores, i * P, P, bought), new Set(basket.filter((p) => !bought.has(p))));
    });
  }
  return { all: all.result(), repeat: repeat.result(), explore: explore.result() };
}

/** Popularity: distinct buyers in the training lines (then purchases, then id), the same for everyone. */
export function popularityScores(train: PurchaseHistory): (users: Int32Array) => Float32Array {
  const P = train.productRows;
  const row = new Float32Array(P);
  popularityRanking(train).order.forEach((p, i) => (row[p] = P - i));
  return (users) => {
    const out = new Float32Array(users.length * P);
    for (let i = 0; i < users.length; i++) out.set(row, i * P);
    return out;
  };
}

/** P-TopFreq: the customer's own purchase counts first, popularity after (and between equal counts). */
export function personalFrequencyScores(train: PurchaseHistory): (users: Int32Array) => Float32Array {
  const P = train.productRows;
  const popular = popularityScores(train);
  return (users) => {
    const out = popular(users);
    users.forEach((u, i) => {
      for (let k = train.userOffsets[u]; k < train.userOffsets[u + 1]; k++) out[i * P + train.products[k]] += P * train.counts[k];
    });
    return out;
  };
}

/**
 * An experiment, not what is served: the default's tables with each
 * customer's purchase-time context (their activity over the history's clock)
 * replaced by the same mass at the clock's END ("now", the time a request
 * is answered), smoothed as the context is. docs/ml.md, "Purchase-time
 * context at serving time", says what it shows.
 */
export function contextAtNow(w: DotProductWeights, productRows: number, bandwidth = DEFAULT_TIME_CONTEXT.bandwidth): DotProductWeights {
  const T = w.dim - productRows;
  if (T <= 0) return w;
  const kernel = Float32Array.from({ length: T }, (_, t) => Math.exp(-0.5 * ((T - 1 - t) / bandwidth) ** 2));
  const kernelSum = kernel.reduce((a, b) => a + b, 0);
  const userFactors = Float32Array.from(w.userFactors);
  for (let u = 0; u < w.userRows; u++) {
    const row = userFactors.subarray(u * w.dim + productRows, (u + 1) * w.dim);
    const mass = row.reduce((a, b) => a + b, 0);
    for (let t = 0; t < T; t++) row[t] = (mass * kernel[t]) / kernelSum;
  }
  return { ...w, userFactors };
}
