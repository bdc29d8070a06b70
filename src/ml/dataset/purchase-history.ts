import type { BadLineSummary } from './bad-lines';
import { GrowableInt32Array } from './growable';

/**
 * Purchase history aggregated per (customer, product), stored as compressed
 * sparse rows keyed by customer id: the pairs of customer u are the index
 * range [userOffsets[u], userOffsets[u + 1]) of `products` / `counts` / `positions`, with
 * products ascending. Typed arrays instead of one object per purchase
 * keep ten million transactions within a few hundred MB.
 */
export interface PurchaseHistory {
  /** where the data came from (file path, s3 URL, "generated:seed=1") for messages and metadata */
  source: string;
  /** largest customer id seen + 1 (the user embedding table size) */
  userRows: number;
  /** largest product id seen + 1 (the product embedding table size) */
  productRows: number;
  /** length userRows + 1 */
  userOffsets: Int32Array;
  /** product id of each (customer, product) pair, ascending within a customer */
  products: Int32Array;
  /** purchases of that product by that customer (>= 1) */
  counts: Int32Array;
  /**
   * when that customer bought that product: the mean ordinal of the baskets
   * (data lines) containing it, as a share of the history in (0, 1). Lines
   * are in purchase order (the seed's ids follow first appearance, new
   * products appear late, and appended days go at the end), so this is the
   * history's clock; the linear model uses it as purchase-time context.
   */
  positions: Float32Array;
  /** the ordinal (0-based data line) of the last basket containing that pair: a customer's pairs with the largest are its latest basket */
  lastBaskets: Int32Array;
  stats: PurchaseStats;
  badLines: BadLineSummary;
}

export interface PurchaseStats {
  /** data lines (baskets) accepted */
  transactions: number;
  /** product occurrences accepted (repeats included) */
  purchases: number;
  /** customers with at least one purchase */
  customers: number;
  /** distinct (customer, product) pairs */
  pairs: number;
}

/** The customer of every pair, expanded from the CSR offsets. */
export function pairUsers(history: PurchaseHistory): Int32Array {
  const users = new Int32Array(history.products.length);
  for (let u = 0; u < history.userRows; u++) {
    users.fill(u, history.userOffsets[u], history.userOffsets[u + 1]);
  }
  return users;
}

/** Whether customer `user` bought `product` (binary search in its sorted pairs). */
export function hasPurchased(history: PurchaseHistory, user: number, product: number): boolean {
  if (user < 0 || user >= history.userRows) return false;
  let lo = history.userOffsets[user];
  let hi = history.userOffsets[user + 1] - 1;
  const products = history.products;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const p = products[mid];
    if (p === product) return true;
    if (p < product) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}

/**
 * Accumulates baskets and builds a PurchaseHistory. Each basket is reduced to
 * (product, count) pairs immediately; baskets of the same customer on several
 * lines are merged at build time by a counting sort on customer id.
 */
export class PurchaseHistoryBuilder {
  private readonly tripleUser = new GrowableInt32Array(1 << 16);
  private readonly tripleProduct = new GrowableInt32Array(1 << 16);
  private readonly tripleCount = new GrowableInt32Array(1 << 16);
  private readonly tripleBasket = new GrowableInt32Array(1 << 16);
  private maxUser = -1;
  private maxProduct = -1;
  private transactions = 0;
  private purchases = 0;
  private scratch = new Int32Array(64);

  /** Adds one basket. `products` may contain repeats (= repeated purchases) in any order. */
  addBasket(user: number, products: ArrayLike<number>): void {
    const n = products.length;
    if (n === 0) return;
    if (this.scratch.length < n) this.scratch = new Int32Array(Math.max(n, this.scratch.length * 2));
    const sorted = this.scratch.subarray(0, n);
    for (let i = 0; i < n; i++) sorted[i] = products[i];
    sorted.sort();
    let run = 1;
    for (let i = 1; i <= n; i++) {
      if (i < n && sorted[i] === sorted[i - 1]) {
        run++;
        continue;
      }
      this.tripleUser.push(user);
      this.tripleProduct.push(sorted[i - 1]);
      this.tripleCount.push(run);
      this.tripleBasket.push(this.transactions);
      run = 1;
    }
    if (user > this.maxUser) this.maxUser = user;
    if (sorted[n - 1] > this.maxProduct) this.maxProduct = sorted[n - 1];
    this.transactions++;
    this.purchases += n;
  }

  get transactionCount(): number {
    return this.transactions;
  }

  build(source: string, badLines: BadLineSummary): PurchaseHistory {
    const userRows = this.maxUser + 1;
    const productRows = this.maxProduct + 1;
    const { start, byUserProduct, byUserCount, byUserBasket } = groupByUser(
      this.tripleUser.view(),
      this.tripleProduct.view(),
      this.tripleCount.view(),
      this.tripleBasket.view(),
      userRows,
    );
    const n = byUserProduct.length;
    // mean basket ordinal per merged pair: a sum and the number of baskets (one triple = one basket)
    const positions = new Float32Array(n);
    const lastBaskets = new Int32Array(n);
    const clock = (ordinalSum: number, basketsOfPair: number) => (ordinalSum / basketsOfPair + 0.5) / this.transactions;

    // Per customer: sort and merge when several baskets contributed, compacting in place.
    const userOffsets = new Int32Array(userRows + 1);
    let write = 0;
    let customers = 0;
    for (let u = 0; u < userRows; u++) {
      const from = start[u];
      const to = start[u + 1];
      userOffsets[u] = write;
      if (to > from) customers++;
      if (isStrictlyAscending(byUserProduct, from, to)) {
        for (let i = from; i < to; i++) {
          byUserProduct[write] = byUserProduct[i];
          byUserCount[write] = byUserCount[i];
          positions[write] = clock(byUserBasket[i], 1);
          lastBaskets[write] = byUserBasket[i];
          write++;
        }
        continue;
      }
      const order = Array.from({ length: to - from }, (_, k) => from + k).sort((a, b) => byUserProduct[a] - byUserProduct[b]);
      const segProducts = order.map((i) => byUserProduct[i]);
      const segCounts = order.map((i) => byUserCount[i]);
      const segBaskets = order.map((i) => byUserBasket[i]);
      let ordinalSum = 0;
      let basketsOfPair = 0;
      for (let k = 0; k < segProducts.length; k++) {
        if (k > 0 && segProducts[k] === segProducts[k - 1]) {
          byUserCount[write - 1] += segCounts[k];
        } else {
          if (write > userOffsets[u]) positions[write - 1] = clock(ordinalSum, basketsOfPair);
          byUserProduct[write] = segProducts[k];
          byUserCount[write] = segCounts[k];
          ordinalSum = 0;
          basketsOfPair = 0;
          write++;
        }
        ordinalSum += segBaskets[k];
        basketsOfPair++;
        lastBaskets[write - 1] = Math.max(lastBaskets[write - 1], segBaskets[k]);
      }
      if (write > userOffsets[u]) positions[write - 1] = clock(ordinalSum, basketsOfPair);
    }
    userOffsets[userRows] = write;

    return {
      source,
      userRows,
      productRows,
      userOffsets,
      products: byUserProduct.slice(0, write),
      counts: byUserCount.slice(0, write),
      positions: positions.slice(0, write),
      lastBaskets: lastBaskets.slice(0, write),
      stats: { transactions: this.transactions, purchases: this.purchases, customers, pairs: write },
      badLines,
    };
  }
}

/** The triples grouped by customer with a stable counting sort (O(n + userRows)): customer u's are at [start[u], start[u+1]). */
function groupByUser(users: Int32Array, products: Int32Array, counts: Int32Array, baskets: Int32Array, userRows: number) {
  const n = users.length;
  const start = new Int32Array(userRows + 1);
  for (let i = 0; i < n; i++) start[users[i] + 1]++;
  for (let u = 0; u < userRows; u++) start[u + 1] += start[u];
  const cursor = start.slice(0, userRows);
  const byUserProduct = new Int32Array(n);
  const byUserCount = new Int32Array(n);
  const byUserBasket = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const at = cursor[users[i]]++;
    byUserProduct[at] = products[i];
    byUserCount[at] = counts[i];
    byUserBasket[at] = baskets[i];
  }
  return { start, byUserProduct, byUserCount, byUserBasket };
}

function isStrictlyAscending(values: Int32Array, from: number, to: number): boolean {
  for (let i = from + 1; i < to; i++) if (values[i] <= values[i - 1]) return false;
  return true;
}
