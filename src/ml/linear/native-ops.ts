/**
 * TensorFlow ops that tfjs does not expose but its native backend can run by
 * name: tfjs has no matrix inverse, and EASE needs one. The Gram matrix plus
 * λI is symmetric positive definite, so the inverse goes through its
 * Cholesky factor (two triangular solves): at 3,659 products ~1.1 s against
 * 3.3 s for the general LU-based MatrixInverse (bench:ease).
 */
import * as tf from '@tensorflow/tfjs-node';
import type { NodeJSKernelBackend } from '@tensorflow/tfjs-node/dist/nodejs_kernel_backend';

function nativeBackend(): NodeJSKernelBackend {
  const backend = tf.backend();
  if (tf.getBackend() !== 'tensorflow') throw new Error(`native TensorFlow backend required, current backend is ${tf.getBackend()}`);
  return backend as unknown as NodeJSKernelBackend;
}

/** Inverse of a square float32 matrix (TensorFlow's MatrixInverse). */
export function matrixInverse(m: tf.Tensor2D): tf.Tensor2D {
  const backend = nativeBackend();
  const { binding } = backend;
  return backend.executeSingleOutput(
    'MatrixInverse',
    [
      { name: 'adjoint', type: binding.TF_ATTR_BOOL, value: false },
      { name: 'T', type: binding.TF_ATTR_TYPE, value: binding.TF_FLOAT },
    ],
    [m],
  ) as tf.Tensor2D;
}

/** Lower-triangular L with L·Lᵀ = m (TensorFlow's Cholesky); m symmetric positive definite. */
export function cholesky(m: tf.Tensor2D): tf.Tensor2D {
  const backend = nativeBackend();
  return backend.executeSingleOutput(
    'Cholesky',
    [{ name: 'T', type: backend.binding.TF_ATTR_TYPE, value: backend.binding.TF_FLOAT }],
    [m],
  ) as tf.Tensor2D;
}

/** X solving L·X = rhs (or Lᵀ·X = rhs with `transposed`) for lower-triangular L. */
export function lowerTriangularSolve(l: tf.Tensor2D, rhs: tf.Tensor2D, transposed: boolean): tf.Tensor2D {
  const backend = nativeBackend();
  const { binding } = backend;
  return backend.executeSingleOutput(
    'MatrixTriangularSolve',
    [
      { name: 'lower', type: binding.TF_ATTR_BOOL, value: true },
      { name: 'adjoint', type: binding.TF_ATTR_BOOL, value: transposed },
      { name: 'T', type: binding.TF_ATTR_TYPE, value: binding.TF_FLOAT },
    ],
    [l, rhs],
  ) as tf.Tensor2D;
}

/** Inverse of a symmetric positive-definite float32 matrix: (L·Lᵀ)⁻¹ = L⁻ᵀ·L⁻¹, by two triangular solves. */
export function spdInverse(m: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const l = cholesky(m);
    return lowerTriangularSolve(l, lowerTriangularSolve(l, tf.eye(m.shape[0]) as tf.Tensor2D, false), true);
  });
}
