/**
 * Percentile bootstrap over customers for HR@10 / NDCG@10 (bench:quality):
 * the evaluated customers are resampled with replacement; a paired
 * difference resamples the same customers for both models, so the interval
 * is that of the difference on this data, not of two independent means.
 */
import { RANK_CUTOFF } from '../src/ml/ranking-metrics';
import { deriveSeed, Random } from '../src/ml/random';

export const BOOTSTRAP_SAMPLES = 1000;

export interface Interval {
  value: number;
  low: number;
  high: number;
}

export interface RankingIntervals {
  hr10: Interval;
  ndcg10: Interval;
}

const hit = (rank: number) => (rank <= RANK_CUTOFF ? 1 : 0);
const gain = (rank: number) => (rank <= RANK_CUTOFF ? 1 / Math.log2(rank + 1) : 0);

function percentile(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.round(q * (sorted.length - 1))))];
}

/** 95 % intervals of the mean of per-customer values `a[i] − b[i]` (b omitted: of a alone). */
export function meanInterval(a: Float64Array, b: Float64Array | undefined, seed: number): Interval {
  const n = a.length;
  const d = b ? a.map((v, i) => v - b[i]) : a;
  const value = d.reduce((s, v) => s + v, 0) / Math.max(1, n);
  const rng = new Random(seed);
  const means = new Float64Array(BOOTSTRAP_SAMPLES);
  for (let s = 0; s < BOOTSTRAP_SAMPLES; s++) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += d[rng.int(n)];
    means[s] = sum / Math.max(1, n);
  }
  means.sort();
  return { value, low: percentile(means, 0.025), high: percentile(means, 0.975) };
}

/** HR@10 and NDCG@10 with 95 % intervals from per-customer ranks (`other`: of the paired difference ranks − other). */
export function rankingIntervals(ranks: Int32Array, other?: Int32Array, seed = 42): RankingIntervals {
  const values = (r: Int32Array, f: (rank: number) => number) => Float64Array.from(r, f);
  return {
    hr10: meanInterval(values(ranks, hit), other && values(other, hit), deriveSeed(seed, 1)),
    ndcg10: meanInterval(values(ranks, gain), other && values(other, gain), deriveSeed(seed, 2)),
  };
}

export const formatInterval = (i: Interval, digits = 4) =>
  `${i.value.toFixed(digits)} [${i.low.toFixed(digits)}, ${i.high.toFixed(digits)}]`;
