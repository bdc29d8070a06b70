/**
 * Our checkpoint writer against TensorFlow's own (SaveV2 → BundleWriter →
 * tsl TableBuilder): for the same variables the files must be byte for byte
 * the same — data layout, entry protos, CRCs, blocks, index separators,
 * footer — including an index large enough to span several blocks.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportSavedModel } from '../../src/savedmodel/export';
import { writeTensorBundle } from '../../src/savedmodel/checkpoint/bundle-writer';
import type { CheckpointTensor } from '../../src/savedmodel/checkpoint/checkpoint-tensor';
import { GRAPH_PRODUCER, variableNodes, readNodeName } from '../../src/savedmodel/graph/recommender-graph';
import { saverSubgraph } from '../../src/savedmodel/graph/saver';
import { encodeMessage, loadTensorflowProtos } from '../../src/savedmodel/protos';
import { SEED_SIZE, buildTfjsRecommender, makeTempDir, weightsOf } from './helpers';
import { SAVE_SIGNATURE, copyWithSaveSignature, saveWithTensorflow } from './tf-save';
import { parseTable } from '../helpers/checkpoint-table';

let tmp: string;
beforeAll(async () => {
  tmp = await makeTempDir();
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function expectSameFiles(ours: string, theirs: string): Promise<void> {
  for (const suffix of ['.index', '.data-00000-of-00001']) {
    const a = await readFile(ours + suffix);
    const b = await readFile(theirs + suffix);
    expect(a.length, suffix).toBe(b.length);
    expect(a.equals(b), `${suffix} differs`).toBe(true);
  }
}

describe('checkpoint bytes equal TensorFlow SaveV2 output', () => {
  it('for the seed-sized recommender', async () => {
    const weights = weightsOf(buildTfjsRecommender({ ...SEED_SIZE, activation: 'sigmoid' }), 'sigmoid');
    const exported = path.join(tmp, 'seed');
    await exportSavedModel(weights, exported);
    const withSave = path.join(tmp, 'seed-save');
    await copyWithSaveSignature(exported, withSave);
    await mkdir(path.join(tmp, 'tf-seed'));
    const theirs = path.join(tmp, 'tf-seed', 'ckpt');
    await saveWithTensorflow(withSave, theirs);
    await expectSameFiles(path.join(exported, 'variables', 'variables'), theirs);
  });

  it('for an index of several 256 KiB blocks (2500 variables with long names)', async () => {
    const tensors: CheckpointTensor[] = Array.from({ length: 2500 }, (_, i) => ({
      name: `layer_${i.toString(36).padStart(3, '0')}/${'kernel_weights_'.repeat(14)}${i % 7}`,
      shape: [2, (i % 3) + 1],
      data: Float32Array.from({ length: 2 * ((i % 3) + 1) }, (_, j) => Math.sin(i * 31 + j)),
    }));
    const dir = path.join(tmp, 'many');
    await mkdir(path.join(dir, 'variables'), { recursive: true });
    const prefix = path.join(dir, 'variables', 'variables');
    const bundle = await writeTensorBundle(prefix, tensors);
    expect(parseTable(await readFile(bundle.index.path)).dataBlocks.length).toBeGreaterThanOrEqual(3);

    const sorted = bundle.tensors.map((t) => ({ key: t.name, handle: t.name, read: readNodeName(t.name) }));
    const saver = saverSubgraph(sorted);
    const protos = loadTensorflowProtos();
    const savedModel = encodeMessage(protos.SavedModel, {
      savedModelSchemaVersion: 1,
      metaGraphs: [
        {
          metaInfoDef: { tags: ['serve'] },
          graphDef: { node: [...variableNodes(tensors), ...saver.nodes], versions: { producer: GRAPH_PRODUCER } },
          saverDef: saver.saverDef,
          signatureDef: { save: SAVE_SIGNATURE },
        },
      ],
    });
    await writeFile(path.join(dir, 'saved_model.pb'), savedModel);
    await mkdir(path.join(tmp, 'tf-many'));
    const theirs = path.join(tmp, 'tf-many', 'ckpt');
    await saveWithTensorflow(dir, theirs); // TF reads our multi-block index at load, then writes its own
    await expectSameFiles(prefix, theirs);
  });
});
