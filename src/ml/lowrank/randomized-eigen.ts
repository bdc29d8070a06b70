/**
 * The top-k eigenpairs of the Gram matrix G = XᵀW²X by randomized subspace
 * iteration (Halko, Martinsson & Tropp 2011, algorithms 4.4 and 5.3 applied
 * to the symmetric G): Q = orth(G·Ω), q times Q = orth(G·Q), then the
 * Rayleigh–Ritz step B = Qᵀ·G·Q [l × l] and its eigensystem. The top-k
 * eigenvectors of G are the right singular vectors of W·X and its
 * eigenvalues their squared singular values, so this is a randomized SVD of
 * the history that only ever holds products × l factors.
 */
import * as tf from '@tensorflow/tfjs-node';
import { Random } from '../random';
import { orthonormalBasis, symmetricEigen } from './native-linalg';
import type { SparseHistory } from './sparse-history';

export interface EigenOptions {
  rank: number;
  /** extra columns of the sketch beyond `rank` (Halko et al. recommend 5–10; more helps a flat spectrum) */
  oversample: number;
  /** subspace (power) iterations after the first sketch */
  powerIterations: number;
  seed: number;
  signal?: AbortSignal;
  /** called after each pass over the history, with the pass number and the total */
  onPass?: (pass: number, passes: number) => void;
}

export interface GramEigen {
  /** [products, k] orthonormal columns, largest eigenvalue first */
  vectors: tf.Tensor2D;
  /** the k eigenvalues s² of G, descending */
  values: Float32Array;
}

export async function topEigenpairs(x: SparseHistory, o: EigenOptions): Promise<GramEigen> {
  const k = Math.min(o.rank, x.products);
  const l = Math.min(x.products, k + o.oversample);
  const passes = o.powerIterations + 2;
  const rng = new Random(o.seed);
  const omega = new Float32Array(x.products * l);
  for (let i = 0; i < omega.length; i++) omega[i] = rng.normal();
  let q = tf.tensor2d(omega, [x.products, l]);
  try {
    for (let pass = 1; pass < passes; pass++) {
      const z = await x.gramTimes(q, o.signal);
      q.dispose();
      q = orthonormalBasis(z);
      z.dispose();
      o.onPass?.(pass, passes);
    }
    const z = await x.gramTimes(q, o.signal);
    const result = tf.tidy(() => {
      const b = tf.matMul(q, z, true, false);
      // symmetrise: float32 round-off makes Qᵀ·G·Q very slightly asymmetric
      const { values, vectors } = symmetricEigen(tf.div(tf.add(b, tf.transpose(b)), 2) as tf.Tensor2D);
      // ascending → the last k, reversed to descending
      const order = tf.range(l - 1, l - 1 - k, -1, 'int32');
      return { vectors: tf.matMul(q, tf.gather(vectors, order, 1)) as tf.Tensor2D, values: tf.gather(values, order) };
    });
    z.dispose();
    o.onPass?.(passes, passes);
    const values = Float32Array.from(result.values.dataSync(), (v) => Math.max(0, v));
    result.values.dispose();
    return { vectors: result.vectors, values };
  } finally {
    q.dispose();
  }
}
