import type { PurchaseHistory } from './dataset/purchase-history';
import { deriveSeed, Random } from './random';

export interface HoldoutSplit {
  /** the history without the held-out pairs; same userRows/productRows as the full history */
  train: PurchaseHistory;
  /** evaluated customers, ascending */
  users: Int32Array;
  /** the held-out product of each evaluated customer */
  products: Int32Array;
  /** customers with >= 2 distinct products (who can lose one and still be learned) */
  eligibleUsers: number;
  /** true when users is a seeded sample of the eligible customers */
  sampled: boolean;
}

const STREAM = { sample: 21, pick: 22 } as const;

/**
 * Leave-one-out split: for each customer with at least two distinct products
 * (or a seeded sample of at most `maxUsers` of them), one distinct product
 * chosen uniformly with a seeded PRNG is removed from training together with
 * all its repeat purchases. (Random rather than "last": a product bought
 * early is as much a customer's taste as the latest one, and the line order
 * is only a clock of baskets, not of each product within one.)
 */
export function holdOutOnePerUser(history: PurchaseHistory, maxUsers: number, seed: number): HoldoutSplit {
  const { userOffsets, userRows } = history;
  const eligible: number[] = [];
  for (let u = 0; u < userRows; u++) if (userOffsets[u + 1] - userOffsets[u] >= 2) eligible.push(u);

  let users = Int32Array.from(eligible);
  const sampled = users.length > maxUsers;
  if (sampled) {
    new Random(deriveSeed(seed, STREAM.sample)).shuffle(users);
    users = users.slice(0, maxUsers).sort();
  }

  const pick = new Random(deriveSeed(seed, STREAM.pick));
  const products = new Int32Array(users.length);
  const removedPair = new Int32Array(users.length);
  for (let i = 0; i < users.length; i++) {
    const u = users[i];
    const from = userOffsets[u];
    removedPair[i] = from + pick.int(userOffsets[u + 1] - from);
    products[i] = history.products[removedPair[i]];
  }
  return { train: withoutPairs(history, removedPair), users, products, eligibleUsers: eligible.length, sampled };
}

/** A copy of the history without the given pair indices (ascending). */
function withoutPairs(history: PurchaseHistory, removed: Int32Array): PurchaseHistory {
  const total = history.products.length;
  const keep = total - removed.length;
  const products = new Int32Array(keep);
  const counts = new Int32Array(keep);
  const positions = new Float32Array(keep);
  const lastBaskets = new Int32Array(keep);
  const userOffsets = new Int32Array(history.userRows + 1);
  let write = 0;
  let r = 0;
  let removedPurchases = 0;
  let customers = 0;
  for (let u = 0; u < history.userRows; u++) {
    userOffsets[u] = write;
    for (let i = history.userOffsets[u]; i < history.userOffsets[u + 1]; i++) {
      if (r < removed.length && removed[r] === i) {
        removedPurchases += history.counts[i];
        r++;
        continue;
      }
      products[write] = history.products[i];
      counts[write] = history.counts[i];
      positions[write] = history.positions[i];
      lastBaskets[write] = history.lastBaskets[i];
      write++;
    }
    if (write > userOffsets[u]) customers++;
  }
  userOffsets[history.userRows] = write;
  return {
    ...history,
    source: `${history.source} (leave-one-out training split)`,
    userOffsets,
    products,
    counts,
    positions,
    lastBaskets,
    stats: { ...history.stats, purchases: history.stats.purchases - removedPurchases, customers, pairs: write },
  };
}
