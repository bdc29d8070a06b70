/**
 * Item-to-item linear recommenders on the native backend: EASE (Steck 2019)
 * and RP3β (Paudel et al. 2016). Both learn a products × products weight
 * matrix W; a customer's score for product i is x_u · W[:, i] with x_u the
 * customer's binary history row.
 */
import * as tf from '@tensorflow/tfjs-node';
import type { PurchaseHistory } from '../dataset/purchase-history';
import { matrixInverse } from './native-ops';

/** Customers per chunk when accumulating XᵀX (chunk × products floats). */
const GRAM_CHUNK_FLOATS = 8 * 1024 * 1024;

/** Binary history rows of customers [from, to) as a dense [to-from, P] tensor, each row scaled by rowScale(u). */
function historyRows(history: PurchaseHistory, from: number, to: number, rowScale: (u: number) => number): tf.Tensor2D {
  const P = history.productRows;
  const dense = new Float32Array((to - from) * P);
  for (let u = from; u < to; u++) {
    const s = rowScale(u);
    for (let k = history.userOffsets[u]; k < history.userOffsets[u + 1]; k++) dense[(u - from) * P + history.products[k]] = s;
  }
  return tf.tensor2d(dense, [to - from, P]);
}

/** Dense binary history of the given customers, [users.length, P] row-major (the serving user table). */
export function binaryRows(history: PurchaseHistory, users?: Int32Array): Float32Array {
  const P = history.productRows;
  const n = users ? users.length : history.userRows;
  const dense = new Float32Array(n * P);
  for (let r = 0; r < n; r++) {
    const u = users ? users[r] : r;
    for (let k = history.userOffsets[u]; k < history.userOffsets[u + 1]; k++) dense[r * P + history.products[k]] = 1;
  }
  return dense;
}

/**
 * Gram matrix XᵀX of the binary history, rows weighted by n_u^-userExponent
 * (a heavy buyer's co-purchases count less; 0 = plain binary X).
 */
export function gramMatrix(history: PurchaseHistory, userExponent = 0): tf.Tensor2D {
  const P = history.productRows;
  const chunk = Math.max(1, Math.floor(GRAM_CHUNK_FLOATS / Math.max(1, P)));
  const scale = (u: number) => {
    const n = history.userOffsets[u + 1] - history.userOffsets[u];
    return n > 0 ? n ** -userExponent : 0;
  };
  let gram = tf.zeros([P, P]) as tf.Tensor2D;
  for (let from = 0; from < history.userRows; from += chunk) {
    const to = Math.min(history.userRows, from + chunk);
    const next = tf.tidy(() => {
      const x = historyRows(history, from, to, scale);
      return tf.add(gram, tf.matMul(x, x, true, false)) as tf.Tensor2D;
    });
    gram.dispose();
    gram = next;
  }
  return gram;
}

/** Mean of the diagonal of a Gram matrix: the mean (row-weighted) buyer count, the scale λ is relative to. */
export function meanDiagonal(gram: tf.Tensor2D): number {
  return tf.tidy(() => tf.mean(tf.sum(tf.mul(gram, tf.eye(gram.shape[0])), 1)).dataSync()[0]);
}

/** EASE: W = I − P·diag(1/diag(P)) with P = (G + λI)⁻¹, diagonal forced to 0. */
export function easeWeights(gram: tf.Tensor2D, lambda: number): tf.Tensor2D {
  const P = gram.shape[0];
  return tf.tidy(() => {
    const inv = matrixInverse(tf.add(gram, tf.mul(tf.eye(P), lambda)) as tf.Tensor2D);
    const diag = tf.reshape(tf.sum(tf.mul(inv, tf.eye(P)), 1), [1, P]);
    const w = tf.neg(tf.div(inv, diag));
    return tf.mul(w, tf.sub(1, tf.eye(P))) as tf.Tensor2D;
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
