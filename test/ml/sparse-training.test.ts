import * as tf from '@tensorflow/tfjs-node';
import { describe, expect, it } from 'vitest';
import { buildNetwork, LAYER_NAMES, Random } from '../../src/ml';
import { AdamParameter, RowGradients } from '../../src/ml/lazy-adam';
import { SparseTrainingStep, type NetworkLoss } from '../../src/ml/sparse-training-step';

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

  it('a row step moves only the touched rows and sums the gradients of a row seen twice', () => {
    const dim = 3;
    const table = new Float32Array(4 * dim).fill(1);
    const lazy = new AdamParameter(table, { learningRate: 0.1 });
    const reference = new AdamParameter(new Float32Array(dim).fill(1), { learningRate: 0.1 });
    const rows = new RowGradients(4, dim, 8);
    const g = Float32Array.from([0.5, -1, 2, 0.25, 0.25, 0.25]);
    rows.add(2, g, 0);
    rows.add(2, g, 3); // the same row again in the batch
    expect(rows.count).toBe(1);
    lazy.applyRows(rows, 1);
    rows.clear();
    expect(rows.count).toBe(0);
    reference.apply(Float32Array.from([0.75, -0.75, 2.25]), 1);
    expect(Array.from(table.subarray(2 * dim, 3 * dim))).toEqual(Array.from(reference.values));
    for (const untouched of [0, 1, 3]) expect(Array.from(table.subarray(untouched * dim, (untouched + 1) * dim))).toEqual([1, 1, 1]);
  });

  it('refuses more distinct rows than a batch can hold and rows outside the table', () => {
    const rows = new RowGradients(10, 2, 1);
    rows.add(0, new Float32Array(2), 0);
    expect(() => rows.add(1, new Float32Array(2), 0)).toThrow(/more than 1 distinct rows/);
    const small = new AdamParameter(new Float32Array(4), { learningRate: 0.1 });
    const far = new RowGradients(10, 2, 1);
    far.add(7, new Float32Array([1, 1]), 0);
    expect(() => small.applyRows(far, 1)).toThrow(/row 7 outside a table of 2 rows/);
  });
});

describe('sparse training step', () => {
  // When every table row is in every batch, lazy Adam and dense Adam are the
  // same algorithm, so the step must reproduce model.fit exactly (dropout off).
  for (const [loss, outputActivation] of [
    ['meanSquaredLogarithmicError', 'linear'],
    ['binaryCrossentropy', 'sigmoid'],
  ] as const satisfies readonly (readonly [NetworkLoss, 'linear' | 'sigmoid'])[]) {
    it(`${loss}: equals model.fit with tfjs Adam when every row is in the batch`, async () => {
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
      const history = await fitted.fit(xs, y, { epochs: 3, batchSize: n, shuffle: false, verbose: 0 });

      const sparse = buildNetwork(shape);
      const step = new SparseTrainingStep(sparse, { learningRate: 0.05, dropout: 0, loss, outputActivation, maxBatch: n }, new Random(1));
      const losses = [0, 1, 2].map(() => step.step(users, products, labels, 0, n));
      step.writeBack();
      try {
        losses.forEach((l, i) => expect(Math.abs(l - (history.history['loss'][i] as number))).toBeLessThan(1e-5));
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

  it('leaves rows outside the batch as they were and rejects ids outside the tables', () => {
    // cross-entropy on the logits never has a zero gradient, so every touched row must move
    const model = buildNetwork({ userRows: 50, productRows: 10, embeddingDim: 4, hiddenUnits: 5, dropout: 0.2, outputActivation: 'sigmoid', seed: 1 });
    try {
      const initial = model.getLayer(LAYER_NAMES.userEmbedding).getWeights()[0].dataSync().slice();
      const step = new SparseTrainingStep(model, { learningRate: 0.01, dropout: 0.2, loss: 'binaryCrossentropy', outputActivation: 'sigmoid', maxBatch: 4 }, new Random(2));
      for (let i = 0; i < 5; i++) step.step(Int32Array.from([3, 7, 7, 9]), Int32Array.from([0, 1, 2, 3]), Float32Array.from([1, 0, 1, 0]), 0, 4);
      step.writeBack();
      const trained = model.getLayer(LAYER_NAMES.userEmbedding).getWeights()[0].dataSync();
      for (let row = 0; row < 50; row++) {
        const moved = maxAbsDiff(initial.subarray(row * 4, row * 4 + 4), trained.subarray(row * 4, row * 4 + 4)) > 0;
        expect(moved).toBe([3, 7, 9].includes(row));
      }
      expect(() => step.step(Int32Array.from([50]), Int32Array.from([0]), Float32Array.from([1]), 0, 1)).toThrow(/customer id 50 outside the user table \(50 rows\)/);
      expect(() => step.step(Int32Array.from([0]), Int32Array.from([-1]), Float32Array.from([1]), 0, 1)).toThrow(/product id -1 outside/);
      expect(() => step.step(new Int32Array(5), new Int32Array(5), new Float32Array(5), 0, 5)).toThrow(/batch of 5 examples \(at most 4\)/);
    } finally {
      model.dispose();
    }
  });
});
