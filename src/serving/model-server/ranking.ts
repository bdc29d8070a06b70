/**
 * Ordering a request's products, by model score or by popularity. Ties are
 * broken by the lower product id so that the same scores always give the
 * same ranking (results are compared and deduplicated downstream).
 */

import type { RankedProduct } from '../../messaging/result';

export type { RankedProduct };

/** Products by score, highest first. `scores[i]` is the score of `products[i]`. */
export function rankByScore(products: readonly number[], scores: readonly number[]): RankedProduct[] {
  if (products.length !== scores.length) {
    throw new RangeError(`${products.length} products but ${scores.length} scores`);
  }
  return products.map((product, i) => ({ product, score: scores[i] })).sort((a, b) => b.score - a.score || a.product - b.product);
}

/**
 * Products in the order of a popularity ranking (`order`: product ids, most
 * popular first). The score is the product's popularity on a 0..1 scale,
 * 1 - position / order.length, so that it sorts like a model score; products
 * the ranking does not know (typically the out-of-range ids that caused the
 * fallback) come last with score 0, lower id first.
 */
export function rankByPopularity(products: readonly number[], order: readonly number[]): RankedProduct[] {
  const wanted = new Set(products);
  const position = new Map<number, number>();
  for (let i = 0; i < order.length && position.size < wanted.size; i++) {
    const p = order[i];
    if (wanted.has(p) && !position.has(p)) position.set(p, i);
  }
  const n = Math.max(order.length, 1);
  return products
    .map((product) => {
      const at = position.get(product);
      return { product, score: at === undefined ? 0 : 1 - at / n, at: at ?? Number.POSITIVE_INFINITY };
    })
    .sort((a, b) => a.at - b.at || a.product - b.product)
    .map(({ product, score }) => ({ product, score }));
}

/**
 * The first `k` of rankByPopularity(products, order), without ranking the
 * rest: a walk down `order` (a visit's catalogue is every product of the
 * model, and only the best few are kept), then unknown products by id.
 */
export function topByPopularity(products: readonly number[], order: readonly number[], k: number): RankedProduct[] {
  const wanted = new Set(products);
  const n = Math.max(order.length, 1);
  const top: RankedProduct[] = [];
  const taken = new Set<number>();
  for (let i = 0; i < order.length && top.length < k; i++) {
    const p = order[i];
    if (wanted.has(p) && !taken.has(p)) {
      taken.add(p);
      top.push({ product: p, score: 1 - i / n });
    }
  }
  if (top.length < k) {
    const rest = [...wanted].filter((p) => !taken.has(p)).sort((a, b) => a - b);
    for (const product of rest.slice(0, k - top.length)) top.push({ product, score: 0 });
  }
  return top;
}
