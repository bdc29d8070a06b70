import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readPurchases } from '../../src/ml';
import { decodeDotProductWeights, encodeDotProductWeights, type DotProductWeights } from '../../src/ml/dot-weights';
import { rankHoldout } from '../../src/ml/evaluate';
import { trainLinearRecommender } from '../../src/ml/linear/linear-recommender';
import { SavedModelScorer } from '../../src/ml/saved-model-scorer';
import { exportSavedModel } from '../../src/savedmodel';
import { predictSavedModel } from './helpers';

const SEED = path.join(__dirname, '..', '..', 'data', 'seed', 'transactions.csv');

async function tmp(): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), 'dot-export-'));
}

describe('dot-product SavedModel, loaded by TensorFlow', () => {
  it('predicts Σ_d U[u,d]·V[p,d] with the serving contract', async () => {
    const w: DotProductWeights = {
      kind: 'dot',
      userRows: 3,
      productRows: 2,
      dim: 2,
      userFactors: Float32Array.from([1, 0, 0, 1, 2, 3]),
      productFactors: Float32Array.from([0.5, 1, -1, 4]),
    };
    const dir = await tmp();
    try {
      const manifest = await exportSavedModel(w, path.join(dir, 'm'));
      expect(manifest.signature).toBeDefined();
      const { values, shape } = await predictSavedModel(path.join(dir, 'm'), Int32Array.from([0, 1, 2, 2]), Int32Array.from([0, 1, 0, 1]));
      expect(shape).toEqual([4, 1]);
      expect(Array.from(values)).toEqual([0.5, 4, 4, 10]);
      await expect(predictSavedModel(path.join(dir, 'm'), Int32Array.from([3]), Int32Array.from([0]))).rejects.toThrow();
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it('scores the seed-data model through the SavedModel exactly as in memory', async () => {
    const history = await readPurchases(createReadStream(SEED), { source: SEED });
    const trained = await trainLinearRecommender(history, { maxEvalUsers: 500 });
    const roundTrip = (() => {
      const { header, data } = encodeDotProductWeights(trained.weights);
      return decodeDotProductWeights(header, data);
    })();
    const dir = await tmp();
    try {
      await exportSavedModel(roundTrip, path.join(dir, 'm'));
      const scorer = await SavedModelScorer.load(path.join(dir, 'm'), history.productRows);
      try {
        const e = await rankHoldout(trained.split!, (users) => scorer.score(users));
        const mem = trained.metrics.evaluation!;
        expect(Math.abs(e.hr10 - mem.hr10)).toBeLessThanOrEqual(0.004);
        expect(e.hr10).toBeGreaterThan(e.popularity.hr10);
      } finally {
        scorer.dispose();
      }
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('rejects inconsistent tables before writing anything', async () => {
    const dir = await tmp();
    try {
      const bad: DotProductWeights = {
        kind: 'dot',
        userRows: 2,
        productRows: 2,
        dim: 2,
        userFactors: new Float32Array(3),
        productFactors: new Float32Array(4),
      };
      await expect(exportSavedModel(bad, path.join(dir, 'm'))).rejects.toThrow(/userFactors has 3 floats/);
      await expect(fs.readdir(dir)).resolves.toEqual([]);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
