/**
 * exportSavedModel end to end against TensorFlow's own loader (tfjs-node's
 * native backend → TF C API): metadata, predictions versus the tfjs model,
 * both output activations and both id dtypes, the graph's contents, the
 * manifest, and the refusals.
 */
import * as tf from '@tensorflow/tfjs-node';
import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportSavedModel } from '../../src/savedmodel/export';
import { InvalidWeightsError } from '../../src/savedmodel/validate-weights';
import type { NetworkWeights, OutputActivation } from '../../src/ml/network/network-weights';
import type { NodeDefMessage } from '../../src/savedmodel/messages';
import { SEED_SIZE, buildTfjsRecommender, makeTempDir, maxAbsDiff, predictSavedModel, predictTfjs, sampleIds, weightsOf } from './helpers';
import { decodeSavedModel } from './tf-save';

let tmp: string;
beforeAll(async () => {
  tmp = await makeTempDir();
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const models = new Map<OutputActivation, { model: tf.LayersModel; weights: NetworkWeights }>();
function seedModel(activation: OutputActivation): { model: tf.LayersModel; weights: NetworkWeights } {
  let entry = models.get(activation);
  if (!entry) {
    const model = buildTfjsRecommender({ ...SEED_SIZE, activation, seed: activation === 'linear' ? 7 : 11 });
    entry = { model, weights: weightsOf(model, activation) };
    models.set(activation, entry);
  }
  return entry;
}

const exports = new Map<string, Promise<string>>();
/** The seed-sized model exported once per (activation, id dtype); returns its directory. */
function exported(activation: OutputActivation, idDtype: 'int32' | 'int64'): Promise<string> {
  const key = `${activation}-${idDtype}`;
  let done = exports.get(key);
  if (!done) {
    const dir = path.join(tmp, key);
    done = exportSavedModel(seedModel(activation).weights, dir, { idDtype }).then(() => dir);
    exports.set(key, done);
  }
  return done;
}

/** tfjs-node reports signature shapes as protobuf Dim objects, not numbers. */
function dims(shape: unknown): number[] {
  return (shape as unknown[]).map((d) => (typeof d === 'number' ? d : (d as { getSize(): number }).getSize()));
}

describe.each(['linear', 'sigmoid'] as const)('seed-sized model, %s output', (activation) => {
  for (const idDtype of ['int32', 'int64'] as const) {
    it(`predicts what the tfjs model predicts (${idDtype} ids)`, async () => {
      const { model } = seedModel(activation);
      const dir = await exported(activation, idDtype);
      const users = sampleIds(SEED_SIZE.users, 2000, 1);
      const products = sampleIds(SEED_SIZE.products, 2000, 2);
      const expected = predictTfjs(model, users, products);
      const actual = await predictSavedModel(dir, users, products);
      expect(actual.shape).toEqual([2000, 1]);
      expect(maxAbsDiff(actual.values, expected)).toBeLessThanOrEqual(1e-5);
      if (activation === 'sigmoid') expect(actual.values.every((v) => v > 0 && v < 1)).toBe(true);
      else expect(actual.values.some((v) => v < 0 || v > 1)).toBe(true); // genuinely linear (random weights)
    });
  }

  it('describes tag serve, signature serving_default, users/products → predictions', async () => {
    const dir = await exported(activation, 'int32');
    const metaGraphs = await tf.node.getMetaGraphsFromSavedModel(dir);
    expect(metaGraphs).toHaveLength(1);
    expect(metaGraphs[0].tags).toEqual(['serve']);
    expect(Object.keys(metaGraphs[0].signatureDefs)).toEqual(['serving_default']);
    const signature = metaGraphs[0].signatureDefs.serving_default;
    for (const name of ['users', 'products']) {
      const input = signature.inputs[name];
      expect(input.name).toBe(`${name}:0`);
      expect(input.dtype).toBe('int32');
      expect(input.tfDtype).toBe('DT_INT32');
      expect(dims(input.shape)).toEqual([-1, 1]);
    }
    expect(Object.keys(signature.inputs).sort()).toEqual(['products', 'users']);
    expect(Object.keys(signature.outputs)).toEqual(['predictions']);
    expect(signature.outputs.predictions.name).toBe('predictions:0');
    expect(signature.outputs.predictions.tfDtype).toBe('DT_FLOAT');
    expect(dims(signature.outputs.predictions.shape)).toEqual([-1, 1]);
    const int64 = await tf.node.getMetaGraphsFromSavedModel(await exported(activation, 'int64'));
    expect(int64[0].signatureDefs.serving_default.inputs.users.tfDtype).toBe('DT_INT64');
  });

  it('writes the graph of the notes: resource variables, old attributes only, saver wired', async () => {
    const saved = await decodeSavedModel(await exported(activation, 'int32'));
    expect(saved.savedModelSchemaVersion).toBe(1);
    const [meta] = saved.metaGraphs;
    expect(meta.signatureDef.serving_default.methodName).toBe('tensorflow/serving/predict');
    expect(meta.saverDef).toEqual({
      filenameTensorName: 'save/Const:0',
      saveTensorName: 'save/control_dependency:0',
      restoreOpName: 'save/restore_all',
      version: 2,
    });
    const nodes = new Map<string, NodeDefMessage>(meta.graphDef.node.map((n) => [n.name, n]));
    expect(nodes.size).toBe(meta.graphDef.node.length);
    expect(meta.graphDef.versions.producer).toBeGreaterThanOrEqual(22);
    // Attribute names each op has had since TF 1.x; anything else could break an older runtime.
    const knownAttrs: Record<string, string[]> = {
      Placeholder: ['dtype', 'shape'],
      PlaceholderWithDefault: ['dtype', 'shape'],
      Const: ['dtype', 'value'],
      VarHandleOp: ['container', 'dtype', 'shape', 'shared_name'],
      ReadVariableOp: ['dtype'],
      ResourceGather: ['Tindices', 'dtype', 'validate_indices'],
      Reshape: ['T', 'Tshape'],
      ConcatV2: ['N', 'T', 'Tidx'],
      MatMul: ['T', 'transpose_a', 'transpose_b'],
      BiasAdd: ['T', 'data_format'],
      Relu: ['T'],
      Sigmoid: ['T'],
      Identity: ['T'],
      RestoreV2: ['dtypes'],
      SaveV2: ['dtypes'],
      AssignVariableOp: ['dtype'],
      NoOp: [],
    };
    for (const n of meta.graphDef.node) {
      expect(Object.keys(knownAttrs), `op ${n.op}`).toContain(n.op);
      expect(Object.keys(n.attr ?? {}).sort(), `${n.name} (${n.op})`).toEqual(knownAttrs[n.op]);
      for (const input of n.input ?? [])
        expect(nodes.has(input.replace(/^\^/, '').replace(/:\d+$/, '')), `${n.name} ← ${input}`).toBe(true);
    }
    const variables = ['dense_1/bias', 'dense_1/kernel', 'dense_2/bias', 'dense_2/kernel', 'product_embedding', 'user_embedding'];
    for (const v of variables) expect(nodes.get(v)?.op).toBe('VarHandleOp');
    expect(meta.graphDef.node.filter((n) => n.op === 'VariableV2')).toHaveLength(0);
    expect(nodes.get('user_lookup')?.input).toEqual(['user_embedding', 'users']);
    expect(nodes.get('predictions')?.op).toBe('Identity');
    expect(nodes.get('predictions')?.input).toEqual([activation === 'sigmoid' ? 'dense_2/Sigmoid' : 'dense_2/BiasAdd']);
    expect(nodes.has('dense_2/Sigmoid')).toBe(activation === 'sigmoid');
    // RestoreV2 output i is assigned to the variable whose key is tensor_names[i].
    const names = nodes.get('save/RestoreV2/tensor_names')?.attr?.value;
    const keys = names && 'tensor' in names ? (names.tensor.stringVal ?? []).map((s) => Buffer.from(s).toString()) : [];
    expect(keys).toEqual(variables);
    keys.forEach((key, i) => {
      expect(nodes.get(`save/Assign_${i}`)?.input).toEqual([key, i === 0 ? 'save/RestoreV2' : `save/RestoreV2:${i}`]);
    });
    expect(nodes.get('save/restore_all')?.input).toEqual(keys.map((_, i) => `^save/Assign_${i}`));
  });
});

describe('manifest and files', () => {
  it('lists every file with its size and SHA-256, saved_model.pb last, and is deterministic', async () => {
    const { weights } = seedModel('linear');
    const first = path.join(tmp, 'manifest-a');
    const second = path.join(tmp, 'manifest-b');
    const manifest = await exportSavedModel(weights, first);
    const again = await exportSavedModel(weights, second);
    expect(again.files).toEqual(manifest.files);
    expect(manifest.files.map((f) => f.path)).toEqual([
      'variables/variables.data-00000-of-00001',
      'variables/variables.index',
      'assets.extra/tf_serving_warmup_requests',
      'saved_model.pb',
    ]);
    for (const f of manifest.files) {
      const bytes = await readFile(path.join(first, f.path));
      expect(bytes.length).toBe(f.bytes);
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(f.sha256);
    }
    expect(manifest.totalBytes).toBe(manifest.files.reduce((n, f) => n + f.bytes, 0));
    const floats =
      (SEED_SIZE.users + SEED_SIZE.products) * SEED_SIZE.dim +
      2 * SEED_SIZE.dim * SEED_SIZE.hidden +
      SEED_SIZE.hidden +
      SEED_SIZE.hidden +
      1;
    expect(manifest.files[0].bytes).toBe(floats * 4);
    expect(manifest.signature).toEqual({
      tags: ['serve'],
      name: 'serving_default',
      methodName: 'tensorflow/serving/predict',
      inputs: [
        { key: 'users', tensorName: 'users:0', dtype: 'int32', shape: [-1, 1] },
        { key: 'products', tensorName: 'products:0', dtype: 'int32', shape: [-1, 1] },
      ],
      outputs: [{ key: 'predictions', tensorName: 'predictions:0', dtype: 'float32', shape: [-1, 1] }],
    });
    expect(manifest.variables).toContainEqual({ name: 'user_embedding', shape: [SEED_SIZE.users, SEED_SIZE.dim] });
    expect(manifest.outputActivation).toBe('linear');
    expect((await readdir(first)).sort()).toEqual(['assets.extra', 'saved_model.pb', 'variables']);
    expect((await readdir(path.join(first, 'variables'))).sort()).toEqual(['variables.data-00000-of-00001', 'variables.index']);
  });
});

describe('ids outside the tables', () => {
  it('fail the prediction with an error instead of returning a score', async () => {
    const dir = await exported('linear', 'int32');
    await expect(predictSavedModel(dir, Int32Array.from([SEED_SIZE.users]), Int32Array.from([0]))).rejects.toThrow(/not in \[0, 1000\)/);
    await expect(predictSavedModel(dir, Int32Array.from([0]), Int32Array.from([-1]))).rejects.toThrow(/not in \[0, 300\)/);
  });
});

describe('refusals', () => {
  const tiny = (): NetworkWeights => ({
    userEmbedding: { rows: 3, dim: 2, values: new Float32Array(6).fill(0.1) },
    productEmbedding: { rows: 2, dim: 2, values: new Float32Array(4).fill(0.2) },
    hidden: { inputs: 4, units: 3, kernel: new Float32Array(12).fill(0.3), bias: new Float32Array(3) },
    output: { inputs: 3, units: 1, kernel: new Float32Array(3).fill(0.4), bias: new Float32Array(1) },
    outputActivation: 'linear',
  });

  it('rejects weights that do not fit the architecture, or are not finite, and writes nothing', async () => {
    const cases: [string, (w: NetworkWeights) => void, RegExp][] = [
      ['short embedding', (w) => (w.userEmbedding.values = new Float32Array(5)), /userEmbedding.values has 5 values, expected 6/],
      [
        'wrong concat width',
        (w) => Object.assign(w.hidden, { inputs: 5, kernel: new Float32Array(15) }),
        /hidden.inputs is 5, but the concatenated embeddings are 4 wide/,
      ],
      [
        'two outputs',
        (w) => Object.assign(w.output, { units: 2, kernel: new Float32Array(6), bias: new Float32Array(2) }),
        /output.units must be 1/,
      ],
      ['NaN', (w) => (w.hidden.kernel[4] = Number.NaN), /hidden.kernel\[4\] is NaN/],
      ['Infinity', (w) => (w.productEmbedding.values[0] = Number.POSITIVE_INFINITY), /productEmbedding.values\[0\] is Infinity/],
      ['activation', (w) => ((w as { outputActivation: string }).outputActivation = 'tanh'), /outputActivation/],
      ['zero rows', (w) => (w.userEmbedding.rows = 0), /userEmbedding.rows/],
    ];
    for (const [label, mutate, message] of cases) {
      const w = tiny();
      mutate(w);
      const dir = path.join(tmp, `invalid-${label.replace(/\W/g, '')}`);
      await expect(exportSavedModel(w, dir), label).rejects.toThrow(InvalidWeightsError);
      await expect(exportSavedModel(w, dir), label).rejects.toThrow(message);
      await expect(readdir(dir), label).rejects.toThrow(/ENOENT/);
    }
  });

  it('refuses a non-empty directory and leaves its contents alone', async () => {
    const dir = path.join(tmp, 'occupied');
    await mkdir(dir);
    await writeFile(path.join(dir, 'keep.txt'), 'x');
    await expect(exportSavedModel(tiny(), dir)).rejects.toThrow(/not empty/);
    expect(await readdir(dir)).toEqual(['keep.txt']);
  });

  it('exports into an existing empty directory', async () => {
    const dir = path.join(tmp, 'empty');
    await mkdir(dir);
    const manifest = await exportSavedModel(tiny(), dir);
    expect(manifest.files).toHaveLength(4);
    const out = await predictSavedModel(dir, Int32Array.from([2]), Int32Array.from([1]));
    // relu(4 × 0.1-or-0.2 inputs × 0.3) = relu(0.18) per unit; 3 units × 0.18 × 0.4
    expect(out.values[0]).toBeCloseTo(3 * (2 * 0.1 + 2 * 0.2) * 0.3 * 0.4, 6);
  });
});
