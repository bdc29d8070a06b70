/**
 * TensorFlow ops that tfjs does not expose but its native backend can run by
 * name: tfjs has no matrix inverse, and EASE needs one (a 300×300 inverse
 * takes a few milliseconds in TensorFlow's own kernel).
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
