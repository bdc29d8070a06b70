import * as tf from '@tensorflow/tfjs-node';
import { describe, expect, it } from 'vitest';
import { buildNetwork, LAYER_NAMES, Random } from '../../src/ml';
import { AdamParameter, RowGradients } from '../../src/ml/network/lazy-adam';
import { SparseTrainingStep, type NetworkLoss } from '../../src/ml/network/sparse-training-step';

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

describe('lazy Adam on Float32Arrays', () => {
  it('a dense step equals tfjs Adam over several steps', () => {
    const rng = new Random(5);
    const initial = Float32Array.from({ length: 12 }, () => rng.normal());
    const ours = new AdamParameter(initial.slice(), { learningRate: 0.01 });
    const variable = tf.variable(tf.tensor1d(initial), true, 'lazy-adam-test');
    const optimizer = tf.train.adam(0.01);
    try {
      for (let step = 1; step <= 5; step++) {
        const gradient = Float32Array.from({ length: 12 }, () => rng.normal());
        ours.apply(gradient, step);
        tf.tidy(() => optimizer.applyGradients([{ name: variable.name, tensor: tf.tensor1d(gradient) }]));
      }
      expect(maxAbsDiff(ours.values, variable.dataSync())).toBeLessThan(1e-6);
    } finally {
      optimizer.dispose();
      variable.dispose();
    }
  });

  // Rows a batch does not touch must end where dense Adam (zero gradient for them) puts them.
  for (const [label, scale] of [
    ['ordinary gradients (closed-form catch-up)', 1],
    ['gradients so small that epsilon matters (step-by-step catch-up)', 1e-9],
  ] as const) {
    it(`row steps with deferred catch-up equal dense Adam: ${label}`, () => {
      const dim = 3;
      const rows = 6;
      const rng = new Random(8);
      // small values (like embeddings) so float32 rounding of the reference stays far below the updates
      const initial = Float32Array.from({ length: rows * dim }, () => 0.01 * rng.normal());
      const lazy = new AdamParameter(initial.slice(), { learningRate: 0.01 }, dim);
      const dense = new AdamParameter(initial.slice(), { learningRate: 0.01 });
      const batch = new RowGradients(rows, dim, 4);
      // gaps of 1 to 300 steps between touches (longer than MAX_CATCH_UP)
      const touches = (step: number): number[] => [
        0,
        ...(step % 3 === 0 ? [1] : []),
        ...(step % 17 === 0 ? [2, 2] : []),
        ...(step === 5 || step === 320 ? [3] : []),
        ...(step === 2 ? [4] : []),
      ];
      for (let step = 1; step <= 330; step++) {
        const full = new Float32Array(rows * dim);
        for (const row of touches(step)) {
          const g = Float32Array.from({ length: dim }, () => rng.normal() * scale);
          batch.add(row, g, 0);
          for (let d = 0; d < dim; d++) full[row * dim + d] += g[d];
        }
        lazy.applyRows(batch, step);
        batch.clear();
        dense.apply(full, step);
      }
      lazy.catchUpAll(330);
      for (let row = 0; row < rows; row++) {
        const span = [row * dim, (row + 1) * dim] as const;
        // within 0.1 % of how far dense Adam moved the row (plus float32 rounding)
        const moved = maxAbsDiff(dense.values.subarray(...span), initial.subarray(...span));
        expect(maxAbsDiff(lazy.values.subarray(...span), dense.values.subarray(...span))).toBeLessThanOrEqual(1e-3 * moved + 1e-8);
      }
      // the catch-up really moved the idle rows (row 5 was never touched and stays put)
      expect(maxAbsDiff(lazy.values.subarray(4 * dim, 5 * dim), initial.subarray(4 * dim, 5 * dim))).toBeGreaterThan(0);
      expect(Array.from(lazy.values.subarray(5 * dim))).toEqual(Array.from(initial.subarray(5 * dim)));
    });
  }

  it('sums the gradients of a row seen twice in a batch', () => {
    const rows = new RowGradients(4, 3, 8);
    rows.add(2, Float32Array.from([0.5, -1, 2, 0.25, 0.25, 0.25]), 0);
    rows.add(2, Float32Array.from([0.5, -1, 2, 0.25, 0.25, 0.25]), 3);
    expect(rows.count).toBe(1);
    expect(Array.from(rows.values.subarray(0, 3))).toEqual([0.75, -0.75, 2.25]);
    rows.clear();
    expect(rows.count).toBe(0);
    rows.add(1, Float32Array.from([1, 1, 1]), 0);
    expect(Array.from(rows.rows.subarray(0, rows.count))).toEqual([1]);
    expect(Array.from(rows.values.subarray(0, 3))).toEqual([1, 1, 1]);
  });

  it('refuses more distinct rows than a batch can hold, rows outside the table and mismatched widths', () => {
    const rows = new RowGradients(10, 2, 1);
    rows.add(0, new Float32Array(2), 0);
    expect(() => rows.add(1, new Float32Array(2), 0)).toThrow(/more than 1 distinct rows/);
    const small = new AdamParameter(new Float32Array(4), { learningRate: 0.1 }, 2);
    const far = new RowGradients(10, 2, 1);
    far.add(7, new Float32Array([1, 1]), 0);
    expect(() => small.applyRows(far, 1)).toThrow(/row 7 outside a table of 2 rows/);
    expect(() => small.applyRows(new RowGradients(10, 3, 1), 1)).toThrow(/gradient rows of 3 values for a table of 2-wide rows/);
    expect(() => new AdamParameter(new Float32Array(5), { learningRate: 0.1 }, 2)).toThrow(/not whole rows of 2/);
  });
});

describe('sparse training step', () => {
  // Same semantics as dense Adam, so with dropout off the steps must
  // reproduce model.fit, also when a batch touches only some rows.
  for (const [loss, outputActivation, batchSize] of [
    ['meanSquaredLogarithmicError', 'linear', 8],
    ['binaryCrossentropy', 'sigmoid', 8],
    ['meanSquaredLogarithmicError', 'linear', 2],
    ['binaryCrossentropy', 'sigmoid', 3],
  ] as const satisfies readonly (readonly [NetworkLoss, 'linear' | 'sigmoid', number])[]) {
    it(`${loss}, batch ${batchSize} of 8 examples: equals model.fit with tfjs Adam`, async () => {
      const before = tf.memory().numTensors;
      const shape = { userRows: 5, productRows: 4, embeddingDim: 3, hiddenUnits: 6, dropout: 0, outputActivation, seed: 9 };
      const users = Int32Array.from([0, 1, 2, 3, 4, 0, 2, 4]);
      const products = Int32Array.from([0, 1, 2, 3, 0, 3, 1, 2]);
      const labels = Float32Array.from(loss === 'binaryCrossentropy' ? [1, 0, 1, 0, 0, 1, 1, 0] : [0.2, 1, 0.5, 0, 0.9, 0.3, 0.7, 0.1]);
      const n = users.length;

      const fitted = buildNetwork(shape);
      const optimizer = tf.train.adam(0.05);
      fitted.compile({ optimizer, loss });
      const xs = [tf.tensor2d(users, [n, 1], 'int32'), tf.tensor2d(products, [n, 1], 'int32')];
      const y = tf.tensor2d(labels, [n, 1]);
      const history = await fitted.fit(xs, y, { epochs: 3, batchSize, shuffle: false, verbose: 0 });

      const sparse = buildNetwork(shape);
      const step = new SparseTrainingStep(
        sparse,
        { learningRate: 0.05, dropout: 0, loss, outputActivation, maxBatch: batchSize },
        new Random(1),
      );
      const epochLosses = [0, 1, 2].map(() => {
        let sum = 0;
        for (let start = 0; start < n; start += batchSize) {
          const end = Math.min(n, start + batchSize);
          sum += step.step(users, products, labels, start, end) * (end - start);
        }
        return sum / n;
      });
      step.writeBack();
      try {
        epochLosses.forEach((l, i) => expect(Math.abs(l - (history.history['loss'][i] as number))).toBeLessThan(1e-5));
        for (const name of Object.values(LAYER_NAMES)) {
          const a = fitted.getLayer(name).getWeights();
          const b = sparse.getLayer(name).getWeights();
          a.forEach((w, i) => expect(maxAbsDiff(w.dataSync(), b[i].dataSync())).toBeLessThan(1e-5));
        }
        // without dropout, evaluate() is the loss of a forward pass, as model.evaluate computes it
        const evaluated = fitted.evaluate(xs, y, { batchSize: n }) as tf.Scalar;
        expect(Math.abs(step.evaluate(users, products, labels) - evaluated.dataSync()[0])).toBeLessThan(1e-5);
        evaluated.dispose();
      } finally {
        xs.forEach((t) => t.dispose());
        y.dispose();
        optimizer.dispose();
        fitted.dispose();
        sparse.dispose();
      }
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  it('rejects ids outside the tables and oversized batches', () => {
    const model = buildNetwork({
      userRows: 50,
      productRows: 10,
      embeddingDim: 4,
      hiddenUnits: 5,
      dropout: 0.2,
      outputActivation: 'sigmoid',
      seed: 1,
    });
    try {
      const step = new SparseTrainingStep(
        model,
        { learningRate: 0.01, dropout: 0.2, loss: 'binaryCrossentropy', outputActivation: 'sigmoid', maxBatch: 4 },
        new Random(2),
      );
      expect(() => step.step(Int32Array.from([50]), Int32Array.from([0]), Float32Array.from([1]), 0, 1)).toThrow(
        /customer id 50 outside the user table \(50 rows\)/,
      );
      expect(() => step.step(Int32Array.from([0]), Int32Array.from([-1]), Float32Array.from([1]), 0, 1)).toThrow(/product id -1 outside/);
      expect(() => step.step(new Int32Array(5), new Int32Array(5), new Float32Array(5), 0, 5)).toThrow(/batch of 5 examples \(at most 4\)/);
    } finally {
      model.dispose();
    }
  });
});
