/**
 * Item-to-item linear recommenders on the native backend: EASE (Steck 2019)
 * and RP3β (Paudel et al. 2016). Both learn a products × products weight
 * matrix W; a customer's score for product i is x_u · W[:, i] with x_u the
 * customer's binary history row.
 */
import * as tf from '@tensorflow/tfjs-node';
import type { PurchaseHistory } from '../dataset/purchase-history';
import { spdInverse } from './native-ops';
import type { RowContext } from './purchase-time';

/** Columns of a model input row: the products, then the context's columns. */
export function inputColumns(history: PurchaseHistory, context?: RowContext): number {
  return history.productRows + (context?.columns ?? 0);
}

/**
 * Model input rows of the given customers (all when `users` is omitted),
 * row-major [n, P + context columns]: the binary history (1 + countWeight·ln(count)
 * with a count weight: the repeat boost's x̃, repeat-boost.ts), then the
 * customer's context row; each row scaled by rowScale(u).
 */
export function inputRows(
  history: PurchaseHistory,
  users?: ArrayLike<number>,
  context?: RowContext,
  rowScale: (u: number) => number = () => 1,
  countWeight = 0,
): Float32Array {
  const P = history.productRows;
  const C = context?.columns ?? 0;
  const width = P + C;
  const n = users ? users.length : history.userRows;
  const dense = new Float32Array(n * width);
  for (let r = 0; r < n; r++) {
    const u = users ? users[r] : r;
    const s = rowScale(u);
    if (s === 0) continue;
    for (let k = history.userOffsets[u]; k < history.userOffsets[u + 1]; k++)
      dense[r * width + history.products[k]] = countWeight === 0 ? s : s * (1 + countWeight * Math.log(history.counts[k]));
    for (let c = 0; c < C; c++) dense[r * width + P + c] = s * context!.rows[u * C + c];
  }
  return dense;
}

/**
 * Gram matrix FᵀF of the input rows F (binary history, then the context
 * columns), rows weighted by n_u^-userExponent (a heavy buyer's
 * co-purchases count less; 0 = plain binary X). Accumulated pair by pair
 * from the sparse history in one Float32Array (Σ_u n_u² additions, not
 * customers × products² of a dense product), then handed to TensorFlow.
 */
export function gramMatrix(history: PurchaseHistory, userExponent = 0, context?: RowContext): tf.Tensor2D {
  const P = history.productRows;
  const C = context?.columns ?? 0;
  const N = P + C;
  const g = new Float32Array(N * N);
  // item × context terms, contiguous, copied into both triangles of g at the end
  const ic = new Float32Array(P * C);
  const { userOffsets, products } = history;
  const weights = new Float32Array(history.userRows);
  for (let u = 0; u < history.userRows; u++) {
    const from = userOffsets[u];
    const to = userOffsets[u + 1];
    if (to === from) continue;
    const w = (to - from) ** (-2 * userExponent);
    weights[u] = w;
    for (let a = from; a < to; a++) {
      const row = products[a] * N;
      for (let b = from; b < to; b++) g[row + products[b]] += w;
    }
    if (C === 0) continue;
    const t = context!.rows.subarray(u * C, (u + 1) * C);
    for (let a = from; a < to; a++) for (let c = 0, j = products[a] * C; c < C; c++) ic[j + c] += w * t[c];
  }
  if (C === 0) return tf.tensor2d(g, [N, N]);
  for (let j = 0; j < P; j++)
    for (let c = 0; c < C; c++) {
      g[j * N + P + c] = ic[j * C + c];
      g[(P + c) * N + j] = ic[j * C + c];
    }
  // context × context = Tᵀ·diag(w)·T: one native product instead of customers × C² additions
  const cc = tf.tidy(() => {
    const t = tf.tensor2d(context!.rows, [history.userRows, C]);
    return tf.matMul(tf.mul(t, tf.reshape(tf.tensor1d(weights), [-1, 1])), t, true, false);
  });
  const block = cc.dataSync();
  cc.dispose();
  for (let c = 0; c < C; c++) g.set(block.subarray(c * C, (c + 1) * C), (P + c) * N + P);
  return tf.tensor2d(g, [N, N]);
}

/** Mean diagonal of the item block of the n_u^-userExponent-weighted Gram, from the history alone: Σ_u n_u·n_u^-2e / P. */
export function meanItemDiagonal(history: PurchaseHistory, userExponent: number): number {
  let sum = 0;
  for (let u = 0; u < history.userRows; u++) {
    const n = history.userOffsets[u + 1] - history.userOffsets[u];
    if (n > 0) sum += n ** (1 - 2 * userExponent);
  }
  return sum / history.productRows;
}

/**
 * EASE: W = I − P·diag(1/diag(P)) with P = (G + λI)⁻¹, diagonal forced to 0.
 * With `outputs` < the Gram's size (inputs = products then context columns),
 * only the first `outputs` columns are returned, [inputs, outputs]: the
 * context columns are inputs that are never recommended.
 */
export function easeWeights(gram: tf.Tensor2D, lambda: number, outputs = gram.shape[0]): tf.Tensor2D {
  const N = gram.shape[0];
  return tf.tidy(() => {
    const inv = tf.slice(spdInverse(tf.add(gram, tf.mul(tf.eye(N), lambda)) as tf.Tensor2D), [0, 0], [N, outputs]);
    const diag = tf.reshape(tf.sum(tf.mul(inv, tf.eye(N, outputs)), 0), [1, outputs]);
    const w = tf.neg(tf.div(inv, diag));
    return tf.mul(w, tf.sub(1, tf.eye(N, outputs))) as tf.Tensor2D;
  });
}

/**
 * RP3β: W[j, i] = Σ_u (x_uj/deg_j)(x_ui/deg_u) / deg_i^β — a two-step random
 * walk item → customer → item, divided by the target's popularity to the β.
 */
export function rp3betaWeights(history: PurchaseHistory, beta: number): tf.Tensor2D {
  const P = history.productRows;
  const buyers = new Float32Array(P);
  for (let k = 0; k < history.products.length; k++) buyers[history.products[k]]++;
  // Σ_u x_uj x_ui / deg_u is the Gram of X scaled by deg_u^-1/2 per row.
  const g = gramMatrix(history, 0.5);
  return tf.tidy(() => {
    const deg = tf.maximum(tf.tensor1d(buyers), 1);
    const w = tf.div(tf.div(g, tf.reshape(deg, [P, 1])), tf.reshape(tf.pow(deg, beta), [1, P]));
    g.dispose();
    return tf.mul(w, tf.sub(1, tf.eye(P))) as tf.Tensor2D;
  });
}

/** a·A/mean|A| + (1−a)·B/mean|B|: blends two weight matrices on a common scale. */
export function blendWeights(a: tf.Tensor2D, b: tf.Tensor2D, share: number): tf.Tensor2D {
  return tf.tidy(() => {
    const na = tf.div(a, tf.mean(tf.abs(a)));
    const nb = tf.div(b, tf.mean(tf.abs(b)));
    return tf.add(tf.mul(na, share), tf.mul(nb, 1 - share)) as tf.Tensor2D;
  });
}
