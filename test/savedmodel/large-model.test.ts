/**
 * The 1,000,000-user model (a 200 MB user table): exported from a tfjs model
 * with randomly initialised weights, loaded by TensorFlow, predicting what
 * tfjs predicts, including for the last user row.
 */
import * as tf from '@tensorflow/tfjs-node';
import { readFile, rm, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportSavedModel } from '../../src/savedmodel/export';
import type { SavedModelManifest } from '../../src/savedmodel/manifest';
import { buildTfjsRecommender, makeTempDir, maxAbsDiff, predictSavedModel, predictTfjs, sampleIds, weightsOf } from './helpers';
import { parseTable } from '../helpers/checkpoint-table';

const USERS = 1_000_000;
const PRODUCTS = 300;
let tmp: string;
let model: tf.LayersModel;
let manifest: SavedModelManifest;
let exportMs: number;

beforeAll(async () => {
  tmp = await makeTempDir();
  model = buildTfjsRecommender({ users: USERS, products: PRODUCTS, dim: 50, hidden: 50, activation: 'sigmoid', seed: 3 });
  const weights = weightsOf(model, 'sigmoid');
  const start = performance.now();
  manifest = await exportSavedModel(weights, path.join(tmp, 'model'));
  exportMs = performance.now() - start;
});

afterAll(async () => {
  model?.dispose();
  await rm(tmp, { recursive: true, force: true });
});

describe('1,000,000-user model', () => {
  it('exports in seconds, with the table written as one 200 MB tensor', async () => {
    console.log(`export of ${(manifest.totalBytes / 1e6).toFixed(1)} MB took ${(exportMs / 1000).toFixed(2)} s`);
    expect(exportMs).toBeLessThan(20_000);
    const data = manifest.files.find((f) => f.path.endsWith('.data-00000-of-00001'));
    expect(data?.bytes).toBe((USERS * 50 + PRODUCTS * 50 + 100 * 50 + 50 + 50 + 1) * 4);
    expect((await stat(path.join(tmp, 'model', data?.path ?? ''))).size).toBe(data?.bytes);
    const { entries } = parseTable(await readFile(path.join(tmp, 'model', 'variables/variables.index')));
    expect(entries.map((e) => e.key.toString())).toEqual([
      '',
      'dense_1/bias',
      'dense_1/kernel',
      'dense_2/bias',
      'dense_2/kernel',
      'product_embedding',
      'user_embedding',
    ]);
  });

  it('loads in TensorFlow and predicts what the tfjs model predicts', async () => {
    const users = sampleIds(USERS, 5000, 17);
    const products = sampleIds(PRODUCTS, 5000, 18);
    users[1] = USERS - 2;
    const expected = predictTfjs(model, users, products);
    const actual = await predictSavedModel(path.join(tmp, 'model'), users, products);
    expect(actual.shape).toEqual([5000, 1]);
    expect(maxAbsDiff(actual.values, expected)).toBeLessThanOrEqual(1e-5);
  });
});
