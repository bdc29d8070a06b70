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

/** Each product's first position in a ranking, built once per ranking (rankings are cached per version and never change). */
const positionsOf = (() => {
  const cache = new WeakMap<readonly number[], Map<number, number>>();
  return (order: readonly number[]): Map<number, number> => {
    let positions = cache.get(order);
    if (!positions) {
      positions = new Map();
      for (let i = 0; i < order.length; i++) if (!positions.has(order[i])) positions.set(order[i], i);
      cache.set(order, positions);
    }
    return positions;
  };
})();

/**
 * The first `k` of rankByPopularity(products, order) for distinct
 * `products`: one lookup per product in the ranking's position map (built
 * once per ranking) instead of a walk down the ranking per request; this
 * runs for every scored answer (the popularity shadow).
 */
export function topByPopularity(products: readonly number[], order: readonly number[], k: number): RankedProduct[] {
  const positions = positionsOf(order);
  const n = Math.max(order.length, 1);
  const items = products.map((product) => ({ product, at: positions.get(product) ?? Number.POSITIVE_INFINITY }));
  items.sort((a, b) => a.at - b.at || a.product - b.product);
  const top = items.length > k ? items.slice(0, k) : items;
  return top.map(({ product, at }) => ({ product, score: at === Number.POSITIVE_INFINITY ? 0 : 1 - at / n }));
}
