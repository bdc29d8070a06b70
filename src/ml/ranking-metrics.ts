/** Cut-off of the ranking metrics (HR@10, NDCG@10). */
export const RANK_CUTOFF = 10;

/**
 * 1-based rank of `target` among all products 0..P-1 except the customer's
 * training products (`exclude`, ascending), by descending score with ties
 * broken by lower id first (the same order the popularity ranking uses).
 * `scores` holds P scores starting at `offset`.
 */
export function rankAmongCandidates(
  scores: Float32Array,
  offset: number,
  P: number,
  target: number,
  exclude: Int32Array,
  excludeFrom: number,
  excludeTo: number,
): number {
  const t = scores[offset + target];
  let ahead = 0;
  let e = excludeFrom;
  for (let p = 0; p < P; p++) {
    while (e < excludeTo && exclude[e] < p) e++;
    if (e < excludeTo && exclude[e] === p) continue;
    if (p === target) continue;
    const s = scores[offset + p];
    if (s > t || (s === t && p < target)) ahead++;
  }
  return ahead + 1;
}

/** Rank of `target` in a fixed order (position[p] = index in the ranking), skipping excluded products. */
export function rankInOrder(position: Int32Array, target: number, exclude: Int32Array, excludeFrom: number, excludeTo: number): number {
  const t = position[target];
  let excludedAhead = 0;
  for (let e = excludeFrom; e < excludeTo; e++) if (position[exclude[e]] < t) excludedAhead++;
  return t - excludedAhead + 1;
}

/** Accumulates hit rate and NDCG at the cut-off for one relevant item per customer. */
export class RankingAccumulator {
  private hits = 0;
  private dcg = 0;
  private n = 0;

  add(rank: number): void {
    this.n++;
    if (rank <= RANK_CUTOFF) {
      this.hits++;
      // One relevant item, so the ideal DCG is 1.
      this.dcg += 1 / Math.log2(rank + 1);
    }
  }

  result(): { hr10: number; ndcg10: number } {
    return { hr10: this.n === 0 ? 0 : this.hits / this.n, ndcg10: this.n === 0 ? 0 : this.dcg / this.n };
  }
}
