/** Random network weights and a plain-JS forward pass, to check served predictions. */
import type { NetworkWeights, OutputActivation } from '../../src/ml/network/network-weights';

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomWeights(
  users: number,
  products: number,
  dim = 8,
  hidden = 6,
  seed = 1,
  outputActivation: OutputActivation = 'sigmoid',
): NetworkWeights {
  const r = seeded(seed);
  const fill = (n: number) => Float32Array.from({ length: n }, () => r() - 0.5);
  return {
    userEmbedding: { rows: users, dim, values: fill(users * dim) },
    productEmbedding: { rows: products, dim, values: fill(products * dim) },
    hidden: { inputs: 2 * dim, units: hidden, kernel: fill(2 * dim * hidden), bias: fill(hidden) },
    output: { inputs: hidden, units: 1, kernel: fill(hidden), bias: fill(1) },
    outputActivation,
  };
}

export function forward(w: NetworkWeights, user: number, product: number): number {
  const d = w.userEmbedding.dim;
  const x = [
    ...w.userEmbedding.values.subarray(user * d, user * d + d),
    ...w.productEmbedding.values.subarray(product * d, product * d + d),
  ];
  const h = Array.from({ length: w.hidden.units }, (_, j) => {
    let s = w.hidden.bias[j];
    for (let i = 0; i < x.length; i++) s += x[i] * w.hidden.kernel[i * w.hidden.units + j];
    return Math.max(0, s);
  });
  let o = w.output.bias[0];
  for (let i = 0; i < h.length; i++) o += h[i] * w.output.kernel[i];
  return w.outputActivation === 'sigmoid' ? 1 / (1 + Math.exp(-o)) : o;
}
