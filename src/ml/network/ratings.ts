import type { PurchaseHistory } from '../dataset/purchase-history';

/**
 * What a product's buyers get when they all bought it the same number of
 * times (max == min, so min–max scaling would divide by zero). Every one of
 * them bought it, and none bought it less than another, so each gets the top
 * of the scale: 1.0. (Giving 0 would teach the seed model that a product
 * bought once by each of 500 customers is as unwanted as it can be.)
 */
export const DEGENERATE_RATING = 1;

/**
 * The seed's rating recipe: purchase count per (customer, product), scaled
 * per product by min–max over the customers who bought it, so each product's
 * ratings span [0, 1]. Returns one rating per pair of `history`, aligned with
 * history.products / history.counts.
 */
export function seedRatings(history: PurchaseHistory): Float32Array {
  const { products, counts, productRows } = history;
  const min = new Int32Array(productRows).fill(0x7fff_ffff);
  const max = new Int32Array(productRows);
  for (let i = 0; i < products.length; i++) {
    const p = products[i];
    const c = counts[i];
    if (c < min[p]) min[p] = c;
    if (c > max[p]) max[p] = c;
  }
  const ratings = new Float32Array(products.length);
  for (let i = 0; i < products.length; i++) {
    const p = products[i];
    const span = max[p] - min[p];
    ratings[i] = span === 0 ? DEGENERATE_RATING : (counts[i] - min[p]) / span;
  }
  return ratings;
}
