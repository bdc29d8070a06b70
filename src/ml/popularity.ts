import type { PurchaseHistory } from './dataset/purchase-history';

export interface PopularityRanking {
  /** every product id 0..productRows-1, most popular first */
  order: Int32Array;
  /** distinct buyers per product */
  buyers: Int32Array;
  /** purchases (repeats included) per product */
  purchases: Float64Array;
}

/**
 * Products ranked by distinct buyers, then total purchases, then id (stable
 * and deterministic). Distinct buyers rather than raw purchase counts: one
 * customer re-buying a staple 40 times says little about what the next
 * customer will want. This is both the evaluation baseline and the serving
 * fallback for ids outside a model's tables.
 */
export function popularityRanking(history: PurchaseHistory): PopularityRanking {
  const P = history.productRows;
  const buyers = new Int32Array(P);
  const purchases = new Float64Array(P);
  for (let i = 0; i < history.products.length; i++) {
    buyers[history.products[i]]++;
    purchases[history.products[i]] += history.counts[i];
  }
  const order = Array.from({ length: P }, (_, p) => p).sort((a, b) => buyers[b] - buyers[a] || purchases[b] - purchases[a] || a - b);
  return { order: Int32Array.from(order), buyers, purchases };
}
