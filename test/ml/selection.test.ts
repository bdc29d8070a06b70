import { createReadStream } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-node';
import { describe, expect, it } from 'vitest';
import { linearModelMetrics } from '../../src/activities/train';
import { holdOutOnePerUser, readPurchases } from '../../src/ml';
import { easeWeights, gramMatrix, inputColumns, inputRows, meanItemDiagonal } from '../../src/ml/linear/item-item';
import { itemItemWeights, resolveLinearOptions, trainLinearRecommender, withCandidate } from '../../src/ml/linear/linear-recommender';
import { timeContext, DEFAULT_TIME_CONTEXT } from '../../src/ml/linear/purchase-time';
import { EaseSpectrum } from '../../src/ml/linear/selection';
import { generatedHistory } from '../helpers/purchases';

const SEED = path.join(__dirname, '..', '..', 'data', 'seed', 'transactions.csv');

describe('Gram matrix accumulated from the sparse history', () => {
  it('equals FᵀF of the dense weighted input rows, context columns included', async () => {
    const history = await generatedHistory({ users: 200, products: 40, seed: 4 });
    const context = timeContext(history, { ...DEFAULT_TIME_CONTEXT, bins: 6 });
    const scale = (u: number) => {
      const n = history.userOffsets[u + 1] - history.userOffsets[u];
      return n > 0 ? n ** -0.25 : 0;
    };
    const N = inputColumns(history, context);
    const sparse = gramMatrix(history, 0.25, context);
    const dense = tf.tidy(() => {
      const f = tf.tensor2d(inputRows(history, undefined, context, scale), [history.userRows, N]);
      return tf.matMul(f, f, true, false);
    });
    const a = sparse.dataSync();
    const b = dense.dataSync();
    for (let i = 0; i < a.length; i++) expect(a[i]).toBeCloseTo(b[i], 3);
    tf.dispose([sparse, dense]);
  });
});

describe('EASE priced for every λ from one eigendecomposition', () => {
  it('gives the scores of the inverse-based EASE on every product a customer has not bought, with context inputs too', async () => {
    const history = await generatedHistory({ users: 300, products: 60, seed: 3 });
    const context = timeContext(history, { ...DEFAULT_TIME_CONTEXT, bins: 8 });
    const scaled = { columns: context.columns, rows: context.rows.map((v) => v * 3) };
    const P = history.productRows;
    const users = Int32Array.from({ length: 40 }, (_, i) => i);
    const g = gramMatrix(history, 0.25, scaled);
    const x = tf.tensor2d(inputRows(history, users, scaled), [users.length, inputColumns(history, scaled)]);
    const spectrum = new EaseSpectrum(g, x, P);
    try {
      for (const lambda of [5, 50, 500]) {
        const fromSpectrum = spectrum.scores(lambda);
        const w = easeWeights(g, lambda, P);
        const direct = tf.tidy(() => tf.matMul(x, w).dataSync());
        w.dispose();
        let compared = 0;
        for (let r = 0; r < users.length; r++) {
          const bought = new Set(history.products.subarray(history.userOffsets[users[r]], history.userOffsets[users[r] + 1]));
          for (let j = 0; j < P; j++) {
            if (bought.has(j)) continue;
            expect(fromSpectrum[r * P + j]).toBeCloseTo(direct[r * P + j], 3);
            compared++;
          }
        }
        expect(compared).toBeGreaterThan(1000);
      }
    } finally {
      spectrum.dispose();
      tf.dispose([g, x]);
    }
  });
});

describe('per-retrain selection on a validation split of the training part (real seed data)', () => {
  it('reports every candidate, includes plain EASE, and deploys the validation winner', async () => {
    const history = await readPurchases(createReadStream(SEED), { source: SEED });
    const epochs: [number, number][] = [];
    const trained = await trainLinearRecommender(
      history,
      { maxEvalUsers: 500, selection: { maxUsers: 1500 } },
      { onProgress: (p) => p.kind === 'epoch' && epochs.push([p.epoch, p.epochs]) },
    );
    // progress (the activity's heartbeats) after each decomposition and each λ, then the final fit: 3 × (1 + 6) + 1
    expect(epochs).toEqual(Array.from({ length: 22 }, (_, i) => [i + 1, 22]));
    const s = trained.metrics.selection!;
    expect(s).toBeDefined();
    expect(s.users).toBe(1500);
    // 6 λ × (plain EASE + the weighted family without and with the context)
    expect(s.candidates).toHaveLength(18);
    expect(s.candidates.filter((c) => c.family === 'ease')).toHaveLength(6);
    // never below plain EASE on the validation split, by construction: the maximum over a set that contains it
    for (const c of s.candidates) expect(s.chosen.hr10).toBeGreaterThanOrEqual(c.hr10);
    expect(s.chosen.hr10).toBeGreaterThanOrEqual(s.plainEase.hr10);
    // the run's metrics (web UI details) carry the choice and its validation figures
    expect(linearModelMetrics(trained.metrics).selection).toMatch(
      /chosen of 18 on 1500 validation customers.*HR@10 0\.\d{4}.*best plain EASE/,
    );
    // the deployed model is the chosen candidate, refitted on the whole training part
    const o = trained.metrics.options;
    expect(o.lambdaScale).toBe(s.chosen.lambdaScale);
    expect(o.userExponent).toBe(s.chosen.userExponent);
    expect(o.time.bins > 0 ? o.time.weight : 0).toBe(s.chosen.contextWeight);
    const train = trained.split!.train;
    expect(o.lambda).toBeCloseTo(s.chosen.lambdaScale * meanItemDiagonal(train, s.chosen.userExponent), 3);
    // the validation split is carved from the training part: the gate's held-out pairs are not in it
    const validation = holdOutOnePerUser(train, 1500, s.seed);
    for (let i = 0; i < trained.split!.users.length; i++) {
      const u = trained.split!.users[i];
      const kept = validation.train.products.subarray(validation.train.userOffsets[u], validation.train.userOffsets[u + 1]);
      expect(kept).not.toContain(trained.split!.products[i]);
    }
  }, 60_000);

  it('a plain-EASE winner deploys plain EASE: binary rows, no context, the same weights as variant ease at that λ', async () => {
    const history = await generatedHistory({ users: 400, products: 80, seed: 5 });
    const o = withCandidate(resolveLinearOptions({}), { family: 'ease', userExponent: 0, lambdaScale: 2, contextWeight: 0 });
    expect(o.userExponent).toBe(0);
    expect(o.time.bins).toBe(0);
    const chosen = itemItemWeights(history, o);
    const lambda = 2 * meanItemDiagonal(history, 0);
    expect(chosen.lambda).toBeCloseTo(lambda, 4);
    const plain = itemItemWeights(history, resolveLinearOptions({ variant: 'ease', lambda }));
    const a = chosen.w.dataSync();
    const b = plain.w.dataSync();
    expect(a.length).toBe(b.length);
    for (let i = 0; i < a.length; i++) expect(a[i]).toBeCloseTo(b[i], 5);
    tf.dispose([chosen.w, plain.w]);
  });
});
