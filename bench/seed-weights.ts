/**
 * The serving benchmarks' model: a seed-sized network (dim 50, hidden 50)
 * with fixed pseudo-random weights, so every run scores the same tables.
 */
import type { NetworkWeights } from '../src/ml/network/network-weights';

export function seedWeights(users = 1000, products = 300): NetworkWeights {
  const dim = 50;
  const hidden = 50;
  let s = 7;
  // a fixed LCG: the same weights in every run and process
  const rnd = (n: number) =>
    Float32Array.from({ length: n }, () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32 - 0.5) * 0.2);
  return {
    userEmbedding: { rows: users, dim, values: rnd(users * dim) },
    productEmbedding: { rows: products, dim, values: rnd(products * dim) },
    hidden: { inputs: 2 * dim, units: hidden, kernel: rnd(2 * dim * hidden), bias: rnd(hidden) },
    output: { inputs: hidden, units: 1, kernel: rnd(hidden), bias: rnd(1) },
    outputActivation: 'linear',
  };
}
