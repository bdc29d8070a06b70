/**
 * Publishing to the real local MinIO: version numbering, refusal to
 * overwrite, what a poller can see at every step, resumption after a crash,
 * and the lineage objects. Every test uses its own slot under a per-run
 * prefix, removed afterwards.
 */
import * as tf from '@tensorflow/tfjs-node';
import { createHash, randomBytes } from 'node:crypto';
import { cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { Client } from 'minio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportSavedModel } from '../../src/savedmodel/export';
import type { SavedModelManifest } from '../../src/savedmodel/manifest';
import { publishLineage } from '../../src/store/lineage';
import { tfjsFiles, type TfjsModelArtifacts } from '../../src/savedmodel/tfjs-files';
import { getObjectBuffer as readObject, listObjects, objectExists, removeKeys } from '../../src/storage/objects';
import {
  VersionExistsError,
  listClaimedVersions,
  listVersions,
  publishSavedModel,
  removeStaleStaging,
  type PublishEvent,
} from '../../src/store';
import {
  MINIO,
  buildTfjsRecommender,
  makeTempDir,
  maxAbsDiff,
  minioClient,
  predictSavedModel,
  predictTfjs,
  sampleIds,
  waitForMinio,
  weightsOf,
} from './helpers';

/** tfjs's io.ModelArtifacts (the namespace's types are not re-exported through tfjs-node's typings). */
type ModelArtifacts = Parameters<Parameters<typeof tf.io.withSaveHandler>[0]>[0];

const bucket = MINIO.bucket;
const run = `test-${randomBytes(4).toString('hex')}`;
let slotCount = 0;
const newSlot = (): string => `${run}-${++slotCount}`;
let client: Client;
let tmp: string;

interface Exported {
  dir: string;
  manifest: SavedModelManifest;
  model: tf.LayersModel;
}
const exported: Exported[] = [];

beforeAll(async () => {
  await waitForMinio();
  client = minioClient();
  tmp = await makeTempDir();
  // Three different small models (A, B, C).
  for (const seed of [1, 2, 3]) {
    const model = buildTfjsRecommender({ users: 40, products: 15, dim: 6, hidden: 5, activation: 'sigmoid', seed });
    const dir = path.join(tmp, `model-${seed}`);
    exported.push({ dir, manifest: await exportSavedModel(weightsOf(model, 'sigmoid'), dir), model });
  }
});

afterAll(async () => {
  if (client) {
    const keys = [...(await listObjects(client, bucket, run)), ...(await listObjects(client, bucket, `lineage/${run}`))].map((o) => o.key);
    await removeKeys(client, bucket, keys);
  }
  for (const e of exported) e.model.dispose();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

const A = (): Exported => exported[0];
const B = (): Exported => exported[1];
const C = (): Exported => exported[2];
const publish = (slot: string, e: Exported, extra: { version?: number; onProgress?: (event: PublishEvent) => void | Promise<void> } = {}) =>
  publishSavedModel(client, { bucket, slot, dir: e.dir, manifest: e.manifest, ...extra });

/** Versions a TF-Serving-like poller would load: integer directories that have saved_model.pb. */
async function completeVersions(slot: string): Promise<number[]> {
  const versions = await listVersions(client, bucket, slot);
  const complete: number[] = [];
  for (const v of versions) if (await objectExists(client, bucket, `${slot}/${v}/saved_model.pb`)) complete.push(v);
  return complete;
}

async function sha256Of(key: string): Promise<string> {
  return createHash('sha256')
    .update(await readObject(client, bucket, key))
    .digest('hex');
}

async function expectVersionHolds(slot: string, version: number, e: Exported): Promise<void> {
  const keys = (await listObjects(client, bucket, `${slot}/${version}/`)).map((o) => o.key).sort();
  expect(keys).toEqual(e.manifest.files.map((f) => `${slot}/${version}/${f.path}`).sort());
  for (const f of e.manifest.files) expect(await sha256Of(`${slot}/${version}/${f.path}`), f.path).toBe(f.sha256);
}

describe('publishSavedModel', () => {
  it('stages under a non-numeric name and makes saved_model.pb visible last', async () => {
    const slot = newSlot();
    const events: PublishEvent[] = [];
    const manifest = A().manifest;
    const onProgress = async (event: PublishEvent): Promise<void> => {
      events.push(event);
      const keys = (await listObjects(client, bucket, `${slot}/`)).map((o) => o.key);
      const copiedSoFar = events.filter((e) => e.kind === 'copied').length;
      const pbVisible = keys.includes(`${slot}/1/saved_model.pb`);
      // The poller's view: version 1 exists only once everything is in place.
      expect(pbVisible, `after ${event.kind}`).toBe(copiedSoFar === manifest.files.length);
      if (pbVisible) for (const f of manifest.files) expect(keys).toContain(`${slot}/1/${f.path}`);
      expect(await completeVersions(slot)).toEqual(pbVisible ? [1] : []);
      if (copiedSoFar === 0) expect(await listVersions(client, bucket, slot)).toEqual([]); // no numeric directory yet
      for (const key of keys) {
        expect(key).toMatch(new RegExp(`^${slot}/(1/|_claims/1\\.json$|_claims/_changed\\.json$|_staging-1-[0-9a-f]{12}/)`));
      }
    };
    const result = await publish(slot, A(), { onProgress });

    expect(result).toMatchObject({ bucket, slot, version: 1, prefix: `${slot}/1/`, resumed: false, alreadyComplete: false });
    expect(result.stagingLeftBehind).toBeUndefined();
    expect(events.map((e) => e.kind)).toEqual([
      'claimed',
      'staged',
      'staged',
      'staged',
      'staged',
      'copied',
      'copied',
      'copied',
      'copied',
      'staging-removed',
    ]);
    const copied = events.flatMap((e) => (e.kind === 'copied' ? [e.key] : []));
    expect(copied).toEqual([
      `${slot}/1/variables/variables.data-00000-of-00001`,
      `${slot}/1/variables/variables.index`,
      `${slot}/1/assets.extra/tf_serving_warmup_requests`,
      `${slot}/1/saved_model.pb`,
    ]);
    expect(result.objects.map((o) => o.key)).toEqual(copied);
    await expectVersionHolds(slot, 1, A());
    expect((await listObjects(client, bucket, `${slot}/`)).filter((o) => o.key.includes('_staging-'))).toEqual([]);
    expect(await listClaimedVersions(client, bucket, slot)).toEqual([1]);

    // The published copy is a working SavedModel.
    const local = path.join(tmp, `${slot}-download`);
    for (const f of manifest.files) {
      await mkdir(path.dirname(path.join(local, f.path)), { recursive: true });
      await writeFile(path.join(local, f.path), await readObject(client, bucket, `${slot}/1/${f.path}`));
    }
    const users = sampleIds(40, 100, 1);
    const products = sampleIds(15, 100, 2);
    expect(
      maxAbsDiff((await predictSavedModel(local, users, products)).values, predictTfjs(A().model, users, products)),
    ).toBeLessThanOrEqual(1e-5);
  });

  it('numbers versions one above the highest, and a retry of the same files returns the same version', async () => {
    const slot = newSlot();
    expect((await publish(slot, A())).version).toBe(1);
    const retry = await publish(slot, A());
    expect(retry).toMatchObject({ version: 1, resumed: true, alreadyComplete: true });
    expect((await publish(slot, B())).version).toBe(2);
    // The same files as an older version, after a different one: a new version (e.g. a rollback).
    expect((await publish(slot, A())).version).toBe(3);
    expect(await listVersions(client, bucket, slot)).toEqual([1, 2, 3]);
    await expectVersionHolds(slot, 2, B());
    await expectVersionHolds(slot, 3, A());
  });

  it('never overwrites a version: explicit versions taken by other files are refused', async () => {
    const slot = newSlot();
    await publish(slot, A(), { version: 1 });
    const before = await listObjects(client, bucket, `${slot}/1/`);
    await expect(publish(slot, B(), { version: 1 })).rejects.toThrow(VersionExistsError);
    await expect(publish(slot, B(), { version: 1 })).rejects.toThrow(/version 1 of .* already exists/);
    expect(await listObjects(client, bucket, `${slot}/1/`)).toEqual(before);
    await expectVersionHolds(slot, 1, A());
    expect(await publish(slot, A(), { version: 1 })).toMatchObject({ version: 1, alreadyComplete: true });
    expect((await publish(slot, B(), { version: 7 })).version).toBe(7);
    expect((await publish(slot, C())).version).toBe(8);
    await expect(publish(slot, C(), { version: 0 })).rejects.toThrow(/positive integer/);
  });

  it('does not overwrite a version directory written by something else', async () => {
    const slot = newSlot();
    await client.putObject(bucket, `${slot}/3/saved_model.pb`, Buffer.from('not ours'));
    await expect(publish(slot, A(), { version: 3 })).rejects.toThrow(VersionExistsError);
    expect((await readObject(client, bucket, `${slot}/3/saved_model.pb`)).toString()).toBe('not ours');
    expect((await publish(slot, A())).version).toBe(4);
  });

  it('gives concurrent publishers distinct versions', async () => {
    const slot = newSlot();
    const results = await Promise.all([publish(slot, A()), publish(slot, B()), publish(slot, C())]);
    expect(results.map((r) => r.version).sort()).toEqual([1, 2, 3]);
    for (const [i, r] of results.entries()) await expectVersionHolds(slot, r.version, exported[i]);
  });

  it('an interrupted publish stays invisible and resumes under its claim on retry', async () => {
    const slot = newSlot();
    const crash = (event: PublishEvent): void => {
      if (event.kind === 'copied') throw new Error('simulated crash after the first copy');
    };
    await expect(publish(slot, A(), { onProgress: crash })).rejects.toThrow(/simulated crash/);
    expect(await listVersions(client, bucket, slot)).toEqual([1]); // a directory exists…
    expect(await completeVersions(slot)).toEqual([]); // …but no loadable version
    expect((await listObjects(client, bucket, `${slot}/`)).filter((o) => o.key.includes('_staging-'))).toEqual([]);

    const retry = await publish(slot, A());
    expect(retry).toMatchObject({ version: 1, resumed: true, alreadyComplete: false });
    await expectVersionHolds(slot, 1, A());
    expect(await completeVersions(slot)).toEqual([1]);
    // Other files cannot take over the abandoned claim.
    expect((await publish(slot, B())).version).toBe(2);
  });

  it('refuses files that changed since the export, before anything becomes visible', async () => {
    const slot = newSlot();
    const dir = path.join(tmp, `${slot}-tampered`);
    await cp(A().dir, dir, { recursive: true });
    const data = path.join(dir, 'variables/variables.data-00000-of-00001');
    const bytes = await readFile(data);
    bytes[10] ^= 0xff;
    await writeFile(data, bytes);
    await expect(publishSavedModel(client, { bucket, slot, dir, manifest: A().manifest })).rejects.toThrow(/changed since export/);
    expect(await listObjects(client, bucket, `${slot}/1/`)).toEqual([]);
    expect((await listObjects(client, bucket, `${slot}/`)).filter((o) => o.key.includes('_staging-'))).toEqual([]);
  });

  it('rejects slot names that are not plain directory names', async () => {
    for (const slot of ['', '../x', 'a/b', '_staging', '.hidden']) {
      await expect(publishSavedModel(client, { bucket, slot, dir: A().dir, manifest: A().manifest }), slot).rejects.toThrow(
        /invalid slot name/,
      );
    }
  });
});

describe('removeStaleStaging', () => {
  it('removes staging directories older than the threshold and nothing else', async () => {
    const slot = newSlot();
    await publish(slot, A());
    await client.putObject(bucket, `${slot}/_staging-2-abcdef012345/saved_model.pb`, Buffer.from('x'));
    expect(await removeStaleStaging(client, bucket, slot, 3_600_000)).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(await removeStaleStaging(client, bucket, slot, 1000)).toEqual([`${slot}/_staging-2-abcdef012345/`]);
    expect((await listObjects(client, bucket, `${slot}/`)).map((o) => o.key).sort()).toEqual(
      [
        `${slot}/1/saved_model.pb`,
        `${slot}/1/assets.extra/tf_serving_warmup_requests`,
        `${slot}/1/variables/variables.data-00000-of-00001`,
        `${slot}/1/variables/variables.index`,
        `${slot}/_claims/1.json`,
        `${slot}/_claims/_changed.json`, // the slots' change marker
      ].sort(),
    );
  });
});

describe('publishLineage', () => {
  it('writes metadata, metrics, loss curve and a loadable tfjs model outside the version directory', async () => {
    const slot = newSlot();
    const { model } = B();
    let artifacts: TfjsModelArtifacts | undefined;
    await model.save(
      tf.io.withSaveHandler(async (a) => {
        artifacts = a;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    if (!artifacts) throw new Error('no artifacts captured');
    const metadata = { users: 40, products: 15, popularity: [3, 1, 4, 1, 5] };
    const metrics = { hitRate10: 0.29, ndcg10: 0.18 };
    const result = await publishLineage(client, {
      bucket,
      slot,
      version: 2,
      metadata,
      metrics,
      lossSvg: '<svg xmlns="http://www.w3.org/2000/svg"/>',
      tfjsModel: artifacts,
    });

    expect(result.prefix).toBe(`lineage/${slot}/2/`);
    expect(result.objects.map((o) => o.key)).toEqual(
      ['tfjs/weights.bin', 'tfjs/model.json', 'loss.svg', 'metrics.json', 'metadata.json'].map((name) => `lineage/${slot}/2/${name}`),
    );
    expect(await listObjects(client, bucket, `${slot}/`)).toEqual([]); // nothing where TF Serving looks
    for (const o of result.objects) expect(await sha256Of(o.key)).toBe(o.sha256);
    expect(JSON.parse((await readObject(client, bucket, `lineage/${slot}/2/metadata.json`)).toString())).toEqual(metadata);
    expect(JSON.parse((await readObject(client, bucket, `lineage/${slot}/2/metrics.json`)).toString())).toEqual(metrics);

    const modelJson = JSON.parse((await readObject(client, bucket, `lineage/${slot}/2/tfjs/model.json`)).toString()) as {
      modelTopology: object;
      weightsManifest: { paths: string[]; weights: NonNullable<ModelArtifacts['weightSpecs']> }[];
    };
    expect(modelJson.weightsManifest[0].paths).toEqual(['weights.bin']);
    const weightsBin = await readObject(client, bucket, `lineage/${slot}/2/tfjs/weights.bin`);
    const restored = await tf.loadLayersModel(
      tf.io.fromMemory({
        modelTopology: modelJson.modelTopology,
        weightSpecs: modelJson.weightsManifest[0].weights,
        weightData: weightsBin.buffer.slice(weightsBin.byteOffset, weightsBin.byteOffset + weightsBin.byteLength),
      }),
    );
    const users = sampleIds(40, 50, 9);
    const products = sampleIds(15, 50, 10);
    expect(maxAbsDiff(predictTfjs(restored, users, products), predictTfjs(model, users, products))).toBe(0);
    restored.dispose();

    // Already-serialised files are stored as given.
    const files = tfjsFiles(artifacts);
    const again = await publishLineage(client, {
      bucket,
      slot,
      version: 3,
      metadata,
      metrics,
      tfjsModel: { modelJson: files.modelJson, weightsBin: files.weightsBin },
    });
    expect(again.objects.map((o) => o.key.slice(again.prefix.length))).toEqual([
      'tfjs/weights.bin',
      'tfjs/model.json',
      'metrics.json',
      'metadata.json',
    ]);
    expect(await sha256Of(`${again.prefix}tfjs/model.json`)).toBe(createHash('sha256').update(files.modelJson).digest('hex'));
  });
});
