/**
 * The served tables of the low-rank linear model from one eigendecomposition
 * G ≈ V·S·Vᵀ of the (row-weighted) Gram matrix (randomized-eigen.ts):
 * users U = X·A [customers × k] (A = `userSide`), products [products × k]
 * (`productSide`), score = U[u]·productSide[j] — the dot-product SavedModel.
 *
 *  - EASE, uniform penalty λI on the rank-k part alone (d = s/(s + λ),
 *    h_j = Σ_k V_jk² d_k): A = V·diag(d), products V_j / (1 − h_j).
 *  - EASE, diagonal penalty D = λI + R + q·diag(G): R = diag(G − V·S·Vᵀ) ≥ 0
 *    puts back the weight of each product that the kept directions miss,
 *    and q·diag(G) is the emphasised-denoising (EDLAE) penalty, dropout
 *    p = q/(1 + q) of the inputs (Steck 2020). Woodbury keeps the inverse
 *    at rank k: P = (V·S·Vᵀ + D)⁻¹ = D⁻¹ − D⁻¹·V·M·Vᵀ·D⁻¹ with
 *    M = (S⁻¹ + Vᵀ·D⁻¹·V)⁻¹ [k, k]; for a product j not bought, the score
 *    −(x·P)_j / P_jj = (x·D⁻¹·V·M) · (V_j·D⁻¹_j / P_jj). With R and q zero
 *    these are the uniform tables exactly.
 *  - ridge: x·V·diag(d)·Vᵀ; puresvd: x·V·Vᵀ (Cremonesi et al. 2010).
 *
 * Optionally the product side is divided by its buyers^β (as RP3β does).
 */
import * as tf from '@tensorflow/tfjs-node';
import type { PurchaseHistory } from '../dataset/purchase-history';
import { symmetricEigen } from './native-linalg';

export type LowRankShrinkage = 'ease' | 'ridge' | 'puresvd';

export interface Eigen {
  /** V [products, k] */
  vectors: tf.Tensor2D;
  /** s², descending */
  values: Float32Array;
}

/** The knobs the tables depend on (chosen per retrain, or given). */
export interface TableKnobs {
  shrinkage: LowRankShrinkage;
  lambda: number;
  /** 'residual': D = λI + R + q·diag(G); 'uniform': λI on the rank-k part alone */
  diagonal: 'uniform' | 'residual';
  /** q of the EDLAE penalty q·diag(G) (residual only) */
  emphasis: number;
  beta: number;
}

export interface Tables {
  userSide: tf.Tensor2D;
  productSide: tf.Tensor2D;
}

/** Keeps 1/(1 − h_j) finite when a product lies almost entirely in the kept subspace with a tiny λ. */
const MIN_RESIDUAL = 1e-3;

/** Σ_u w_u² over each product's buyers: diag(G) of G = XᵀW²X (binary X). */
export function gramDiagonal(history: PurchaseHistory, rowWeights: Float32Array): Float32Array {
  const out = new Float32Array(history.productRows);
  for (let u = 0; u < history.userRows; u++)
    for (let i = history.userOffsets[u]; i < history.userOffsets[u + 1]; i++) out[history.products[i]] += rowWeights[u] ** 2;
  return out;
}

/** The tables of `knobs`; `diagonal` is diag(G) of the history the tables serve. The caller disposes them. */
export function lowRankTables(history: PurchaseHistory, eigen: Eigen, knobs: TableKnobs, diagonal: Float32Array): Tables {
  const tables =
    knobs.shrinkage === 'ease' && knobs.diagonal === 'residual' ? penalisedTables(eigen, knobs, diagonal) : uniformTables(eigen, knobs);
  if (knobs.beta <= 0) return tables;
  const P = history.productRows;
  const buyers = new Float32Array(P);
  for (let i = 0; i < history.products.length; i++) buyers[history.products[i]]++;
  const scale = Float32Array.from(buyers, (b) => Math.max(1, b) ** -knobs.beta);
  const productSide = tf.tidy(() => tf.mul(tables.productSide, tf.tensor2d(scale, [P, 1])) as tf.Tensor2D);
  tables.productSide.dispose();
  return { userSide: tables.userSide, productSide };
}

function uniformTables(eigen: Eigen, knobs: TableKnobs): Tables {
  const { vectors, values } = eigen;
  const k = values.length;
  const P = vectors.shape[0];
  // a zero spectrum (empty history) would give λ 0 and 0/0
  const d =
    knobs.shrinkage === 'puresvd'
      ? new Float32Array(k).fill(1)
      : Float32Array.from(values, (s) => (s + knobs.lambda > 0 ? s / (s + knobs.lambda) : 0));
  const scale = new Float32Array(P).fill(1);
  if (knobs.shrinkage === 'ease') {
    const h = readAndDispose(tf.tidy(() => tf.sum(tf.mul(tf.square(vectors), tf.tensor2d(d, [1, k])), 1)));
    for (let j = 0; j < P; j++) scale[j] = 1 / Math.max(MIN_RESIDUAL, 1 - h[j]);
  }
  return {
    userSide: tf.tidy(() => tf.mul(vectors, tf.tensor2d(d, [1, k])) as tf.Tensor2D),
    productSide: tf.tidy(() => tf.mul(vectors, tf.tensor2d(scale, [P, 1])) as tf.Tensor2D),
  };
}

function penalisedTables(eigen: Eigen, knobs: TableKnobs, diagonal: Float32Array): Tables {
  const { vectors, values } = eigen;
  const P = vectors.shape[0];
  const kept = readAndDispose(tf.tidy(() => tf.sum(tf.mul(tf.square(vectors), tf.tensor2d(values, [1, values.length])), 1)));
  const dInv = Float32Array.from(diagonal, (g, j) => 1 / (Math.max(0, g - kept[j]) + knobs.lambda + knobs.emphasis * g));
  // S⁻¹ of a direction with s² ≈ 0 is huge: M then leaves it out, as it should
  const floor = 1e-6 * Math.max(values[0], 1e-12);
  const m = tf.tidy(() => {
    const inner = tf.add(
      tf.matMul(vectors, tf.mul(vectors, tf.tensor2d(dInv, [P, 1])), true, false),
      tf.diag(tf.tensor1d(Array.from(values, (s) => 1 / Math.max(s, floor)))),
    );
    return inverseSpd(inner as tf.Tensor2D);
  });
  try {
    const userSide = tf.tidy(() => tf.matMul(tf.mul(vectors, tf.tensor2d(dInv, [P, 1])), m) as tf.Tensor2D);
    const quad = readAndDispose(tf.tidy(() => tf.sum(tf.mul(tf.matMul(vectors, m), vectors), 1)));
    // V_j·D⁻¹_j / P_jj, P_jj = D⁻¹_j − D⁻¹_j²·(V_j·M·V_jᵀ)
    const scale = Float32Array.from(dInv, (di, j) => di / Math.max(MIN_RESIDUAL * di, di - di * di * quad[j]));
    const productSide = tf.tidy(() => tf.mul(vectors, tf.tensor2d(scale, [P, 1])) as tf.Tensor2D);
    return { userSide, productSide };
  } finally {
    m.dispose();
  }
}

/** The inverse of a small symmetric positive-definite matrix, from its eigensystem (native). */
function inverseSpd(a: tf.Tensor2D): tf.Tensor2D {
  const { values, vectors } = symmetricEigen(a);
  try {
    return tf.matMul(tf.mul(vectors, tf.reshape(tf.div(1, values), [1, -1])), vectors, false, true) as tf.Tensor2D;
  } finally {
    values.dispose();
    vectors.dispose();
  }
}

/**
 * The tensor's values, then frees it. (Not `tf.tidy(() => t.dataSync())`:
 * tidy walks a returned typed array element by element looking for
 * tensors, which costs more than the matMul for a [41, 100,000] block.)
 */
export function readAndDispose(t: tf.Tensor): Float32Array {
  try {
    return t.dataSync() as Float32Array;
  } finally {
    t.dispose();
  }
}
