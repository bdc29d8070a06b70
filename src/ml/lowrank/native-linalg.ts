/**
 * Dense linear algebra that tfjs does not expose but TensorFlow's native
 * backend runs by name: a thin QR of a tall matrix and the eigensystem of a
 * small symmetric one (tfjs' own tf.linalg.qr is Householder in JS ops,
 * far too slow for 100,000 rows).
 */
import * as tf from '@tensorflow/tfjs-node';
import type { NodeJSKernelBackend } from '@tensorflow/tfjs-node/dist/nodejs_kernel_backend';

function nativeBackend(): NodeJSKernelBackend {
  if (tf.getBackend() !== 'tensorflow') throw new Error(`native TensorFlow backend required, current backend is ${tf.getBackend()}`);
  return tf.backend() as unknown as NodeJSKernelBackend;
}

/** Q of the thin QR decomposition of a [n, m] float32 matrix, n >= m: orthonormal columns spanning the same space. */
export function orthonormalBasis(m: tf.Tensor2D): tf.Tensor2D {
  const backend = nativeBackend();
  const { binding } = backend;
  const [q, r] = backend.executeMultipleOutputs(
    'Qr',
    [
      { name: 'full_matrices', type: binding.TF_ATTR_BOOL, value: false },
      { name: 'T', type: binding.TF_ATTR_TYPE, value: binding.TF_FLOAT },
    ],
    [m],
    2,
  );
  r.dispose();
  return q as tf.Tensor2D;
}

/** Eigenvalues (ascending) and eigenvectors (columns) of a symmetric float32 matrix. */
export function symmetricEigen(m: tf.Tensor2D): { values: tf.Tensor1D; vectors: tf.Tensor2D } {
  const backend = nativeBackend();
  const { binding } = backend;
  const [values, vectors] = backend.executeMultipleOutputs(
    'SelfAdjointEigV2',
    [
      { name: 'compute_v', type: binding.TF_ATTR_BOOL, value: true },
      { name: 'T', type: binding.TF_ATTR_TYPE, value: binding.TF_FLOAT },
    ],
    [m],
    2,
  );
  return { values: values as tf.Tensor1D, vectors: vectors as tf.Tensor2D };
}
