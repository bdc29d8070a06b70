import * as tf from '@tensorflow/tfjs-node';
import { describe, expect, it } from 'vitest';

describe('native TensorFlow backend', () => {
  it('is the tensorflow backend, not the pure-JS cpu fallback', () => {
    expect(tf.getBackend()).toBe('tensorflow');
    const binding = (tf.backend() as unknown as { binding: { TF_Version: string } }).binding;
    expect(binding.TF_Version).toMatch(/^2\.\d+\.\d+/);
  });

  it('runs a tensor op and frees its tensors', () => {
    const before = tf.memory().numTensors;
    const product = tf.tidy(() =>
      tf
        .matMul(
          tf.tensor2d([
            [1, 2],
            [3, 4],
          ]),
          tf.tensor2d([[5], [6]]),
        )
        .arraySync(),
    );
    expect(product).toEqual([[17], [39]]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
