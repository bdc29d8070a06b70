import * as tf from '@tensorflow/tfjs-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CatalogueScorer,
  extractWeights,
  IMPLICIT_DEFAULTS,
  LAYER_NAMES,
  predictPairs,
  resolveTrainingOptions,
  SEED_DEFAULTS,
  trainRecommender,
  type NetworkWeights,
  type PurchaseHistory,
  type TrainedRecommender,
} from '../../src/ml';
import { generatedHistory } from '../helpers/purchases';

/** The network's forward pass in plain JS, from the exported arrays only. */
function forward(w: NetworkWeights, user: number, product: number): number {
  const D = w.userEmbedding.dim;
  const input = new Float64Array(w.hidden.inputs);
  for (let d = 0; d < D; d++) input[d] = w.userEmbedding.values[user * D + d];
  for (let d = 0; d < w.productEmbedding.dim; d++) input[D + d] = w.productEmbedding.values[product * w.productEmbedding.dim + d];
  let out = w.output.bias[0];
  for (let j = 0; j < w.hidden.units; j++) {
    let h = w.hidden.bias[j];
    for (let i = 0; i < w.hidden.inputs; i++) h += input[i] * w.hidden.kernel[i * w.hidden.units + j]; // kernel is [inputs, units]
    out += Math.max(0, h) * w.output.kernel[j];
  }
  return w.outputActivation === 'sigmoid' ? 1 / (1 + Math.exp(-out)) : out;
}

describe('network', () => {
  let history: PurchaseHistory;
  const trained: TrainedRecommender[] = [];

  beforeAll(async () => {
    history = await generatedHistory({ seed: 3, users: 150, products: 40 });
    for (const mode of ['implicit', 'seed'] as const) {
      // A couple of epochs so biases are no longer zero and the check is not trivial.
      trained.push(await trainRecommender(history, { mode, epochs: 2, embeddingDim: 8, hiddenUnits: 12, holdout: false }));
    }
  });
  afterAll(() => trained.forEach((t) => t.dispose()));

  it('runs on the native TensorFlow backend', () => {
    expect(tf.getBackend()).toBe('tensorflow');
  });

  it('has the seed layer names, table sizes = largest id + 1, and the objective output activation', () => {
    const [implicit, seed] = trained;
    for (const name of Object.values(LAYER_NAMES)) expect(implicit.model.getLayer(name)).toBeDefined();
    const w = implicit.weights();
    expect(w.userEmbedding.rows).toBe(history.userRows);
    expect(w.productEmbedding.rows).toBe(history.productRows);
    expect(w.userEmbedding.values.length).toBe(history.userRows * 8);
    expect(w.hidden).toMatchObject({ inputs: 16, units: 12 });
    expect(w.hidden.kernel.length).toBe(16 * 12);
    expect(w.output).toMatchObject({ inputs: 12, units: 1 });
    expect(w.outputActivation).toBe('sigmoid');
    expect(seed.weights().outputActivation).toBe('linear');
    expect(Array.from(w.hidden.bias).some((b) => b !== 0)).toBe(true);
  });

  it('extractWeights reproduces model.predict in a hand-written forward pass (within 1e-5)', () => {
    const pairs: [number, number][] = [
      [0, 0],
      [1, 7],
      [history.userRows - 1, history.productRows - 1],
      [42, 13],
      [99, 30],
    ];
    for (const t of trained) {
      const w = extractWeights(t.model);
      const predicted = predictPairs(
        t.model,
        Int32Array.from(pairs, (p) => p[0]),
        Int32Array.from(pairs, (p) => p[1]),
      );
      pairs.forEach(([u, p], i) => expect(Math.abs(forward(w, u, p) - predicted[i])).toBeLessThan(1e-5));
    }
  });

  it('the batched catalogue scorer equals model.predict for every product', () => {
    const scorer = new CatalogueScorer(trained[0].model);
    try {
      const users = Int32Array.from([3, 77, 140]);
      const scores = scorer.score(users, true);
      const P = history.productRows;
      const allUsers = Int32Array.from({ length: users.length * P }, (_, i) => users[Math.floor(i / P)]);
      const allProducts = Int32Array.from({ length: users.length * P }, (_, i) => i % P);
      const predicted = predictPairs(trained[0].model, allUsers, allProducts);
      for (let i = 0; i < predicted.length; i++) expect(Math.abs(scores[i] - predicted[i])).toBeLessThan(1e-5);
    } finally {
      scorer.dispose();
    }
  });

  it('weights() returns copies that survive the model', () => {
    const w = trained[0].weights();
    w.userEmbedding.values[0] = 123;
    expect(trained[0].weights().userEmbedding.values[0]).not.toBe(123);
  });
});

describe('training options', () => {
  it('defaults to the implicit objective and keeps the seed hyperparameters for mode seed', () => {
    const implicit = resolveTrainingOptions();
    expect(implicit).toMatchObject({ mode: 'implicit', loss: 'binaryCrossentropy', outputActivation: 'sigmoid', ...IMPLICIT_DEFAULTS });
    const seed = resolveTrainingOptions({ mode: 'seed' });
    expect(seed).toMatchObject({
      mode: 'seed',
      loss: 'meanSquaredLogarithmicError',
      outputActivation: 'linear',
      embeddingDim: 50,
      hiddenUnits: 50,
      dropout: 0.2,
      batchSize: 64,
      epochs: 3,
      validationSplit: 0.25,
    });
    expect(SEED_DEFAULTS.learningRate).toBe(0.001);
    expect(resolveTrainingOptions({ mode: 'seed', epochs: 7 }).epochs).toBe(7);
  });

  it('rejects invalid options with the field name', () => {
    expect(() => resolveTrainingOptions({ epochs: 0 })).toThrow(/epochs/);
    expect(() => resolveTrainingOptions({ dropout: 1.5 })).toThrow(/dropout/);
    // @ts-expect-error unknown key must be rejected at runtime too
    expect(() => resolveTrainingOptions({ epocs: 3 })).toThrow(/epocs/);
  });
});
