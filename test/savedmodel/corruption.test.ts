/**
 * A damaged checkpoint must fail loudly — an error from TensorFlow's loader
 * or first prediction — never load and predict something else.
 */
import * as tf from '@tensorflow/tfjs-node';
import { readFile, rename, rm, truncate, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportSavedModel } from '../../src/savedmodel/export';
import type { SavedModelManifest } from '../../src/savedmodel/manifest';
import { SEED_SIZE, buildTfjsRecommender, makeTempDir, predictSavedModel, sampleIds, weightsOf } from './helpers';
import { parseTable } from '../helpers/checkpoint-table';

const encodedLength = (n: number): number => (n < 0x80 ? 1 : 1 + encodedLength(Math.floor(n / 0x80)));

let dir: string;
let manifest: SavedModelManifest;
const users = sampleIds(SEED_SIZE.users, 200, 5);
const products = sampleIds(SEED_SIZE.products, 200, 6);
let baseline: Float32Array;

beforeAll(async () => {
  dir = await makeTempDir();
  manifest = await exportSavedModel(weightsOf(buildTfjsRecommender({ ...SEED_SIZE, activation: 'linear' }), 'linear'), dir);
  baseline = (await predictSavedModel(dir, users, products)).values;
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Loads the model; returns predictions, or the error TensorFlow raised. */
async function attempt(): Promise<Float32Array | Error> {
  try {
    return (await predictSavedModel(dir, users, products)).values;
  } catch (error) {
    return error as Error;
  }
}

/** Runs `check` with byte `position` of `file` flipped, then restores the file. */
async function withFlippedByte<T>(file: string, position: number, check: () => Promise<T>): Promise<T> {
  const original = await readFile(file);
  const damaged = Buffer.from(original);
  damaged[position] ^= 0x01;
  await writeFile(file, damaged);
  try {
    return await check();
  } finally {
    await writeFile(file, original);
  }
}

describe('corrupted variables data', () => {
  it('fails to load ("Checksum does not match") for a flipped byte anywhere in any tensor', async () => {
    const file = path.join(dir, 'variables/variables.data-00000-of-00001');
    // First and last byte of every tensor (key order = file order), plus a spread of interior bytes.
    const positions: number[] = [];
    let offset = 0;
    for (const v of manifest.variables) {
      const size = v.shape.reduce((n, d) => n * d, 4);
      positions.push(offset, offset + size - 1);
      offset += size;
    }
    expect(offset).toBe(manifest.files[0].bytes);
    for (let i = 1; i <= 40; i++) positions.push(Math.floor((offset * i) / 41));
    for (const position of positions) {
      const outcome = await withFlippedByte(file, position, attempt);
      expect(outcome, `byte ${position}`).toBeInstanceOf(Error);
      expect((outcome as Error).message, `byte ${position}`).toMatch(/Checksum does not match/);
    }
    expect(await attempt()).toEqual(baseline); // restored file loads again
  });

  it('fails to load when the data file is truncated', async () => {
    const file = path.join(dir, 'variables/variables.data-00000-of-00001');
    const original = await readFile(file);
    await truncate(file, original.length - 4);
    try {
      const outcome = await attempt();
      expect(outcome).toBeInstanceOf(Error);
    } finally {
      await writeFile(file, original);
    }
  });
});

describe('corrupted variables index', () => {
  it('fails to load for a flipped byte anywhere TensorFlow reads, and never predicts differently', async () => {
    const file = path.join(dir, 'variables/variables.index');
    const indexFile = await readFile(file);
    const loaded: number[] = [];
    for (let position = 0; position < indexFile.length; position++) {
      const outcome = await withFlippedByte(file, position, attempt);
      if (outcome instanceof Error) continue;
      loaded.push(position);
      // the only acceptable alternative to an error: exactly the original predictions
      expect(outcome, `byte ${position}`).toEqual(baseline);
    }
    // TensorFlow's table reader never reads the (empty) metaindex block or its
    // handle, nor the footer's zero padding; every other byte is checked.
    const table = parseTable(indexFile);
    const footer = indexFile.length - 48;
    const metaindexHandleLength = encodedLength(table.footer.metaindex.offset) + encodedLength(table.footer.metaindex.size);
    const paddingStart = footer + 40 - table.footer.padding.length;
    const unread = (p: number): boolean =>
      (p >= table.footer.metaindex.offset && p < table.footer.metaindex.offset + table.footer.metaindex.size + 5) ||
      (p >= footer && p < footer + metaindexHandleLength) ||
      (p >= paddingStart && p < footer + 40);
    expect(loaded.filter((p) => !unread(p))).toEqual([]);
    expect(indexFile.length - loaded.length).toBeGreaterThan(indexFile.length * 0.8);
  });

  it('a missing index loads as "no variables" in TensorFlow, and the first prediction fails', async () => {
    const file = path.join(dir, 'variables/variables.index');
    await rename(file, `${file}.away`);
    try {
      const model = await tf.node.loadSavedModel(dir, ['serve'], 'serving_default');
      try {
        expect(() =>
          tf.tidy(() => {
            model.predict({ users: tf.tensor2d([1], [1, 1], 'int32'), products: tf.tensor2d([1], [1, 1], 'int32') });
          }),
        ).toThrow(/Could not find (variable|resource)|uninitialized/);
      } finally {
        model.dispose();
      }
    } finally {
      await rename(`${file}.away`, file);
    }
  });
});
