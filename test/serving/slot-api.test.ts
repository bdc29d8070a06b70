/**
 * Conformance of a model slot with the TF Serving REST subset of DESIGN.md:
 * status, metadata, both predict forms, the error cases, and version
 * management (newest complete version, unload after load, failed loads).
 * Real MinIO, real SavedModels loaded by TensorFlow's own loader.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config';
import { exportSavedModel } from '../../src/savedmodel';
import { startSlotServer, type SlotServer } from '../../src/serving/slot/server';
import { createMinioClient } from '../../src/storage/minio-client';
import { removePrefix, tempDir, uploadVersionDir } from '../helpers/minio';
import { forward, randomWeights } from '../helpers/network';

const cfg = loadConfig();
const minio = createMinioClient(cfg.minio);
const slot = `slot-test-${randomUUID().slice(0, 8)}`;
const w1 = randomWeights(50, 20, 8, 6, 1, 'sigmoid');
const w2 = randomWeights(60, 30, 8, 6, 2, 'linear');
let server: SlotServer;
let work: string;

async function call(method: string, urlPath: string, body?: unknown) {
  const res = await fetch(`${server.url}${urlPath}`, {
    method,
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function until(check: () => Promise<boolean>, ms = 30_000) {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

const stateOf = async (v: number) =>
  ((await call('GET', `/v1/models/${slot}/versions/${v}`)).body.model_version_status as { state: string }[] | undefined)?.[0]?.state;

beforeAll(async () => {
  work = await tempDir('slot-test');
  await exportSavedModel(w1, path.join(work, 'v1'));
  await exportSavedModel(w2, path.join(work, 'v2'));
  server = await startSlotServer({ name: slot, host: '127.0.0.1', port: 0, client: minio, bucket: cfg.buckets.models, pollIntervalMs: 200, maxBatch: 100, bodyLimit: 64 * 1024 });
});

afterAll(async () => {
  await server?.close();
  await removePrefix(minio, cfg.buckets.models, `${slot}/`);
  await fs.rm(work, { recursive: true, force: true });
});

describe('model slot (TF Serving REST API)', () => {
  it('answers 404 with an error before any version exists', async () => {
    expect(await call('GET', `/v1/models/${slot}`)).toEqual({ status: 404, body: { error: `Servable not found for request: Latest(${slot})` } });
    expect((await call('POST', `/v1/models/${slot}:predict`, { instances: [{ users: [0], products: [0] }] })).status).toBe(404);
  });

  it('loads a complete version and reports it AVAILABLE in TF Serving’s status format', async () => {
    await uploadVersionDir(minio, cfg.buckets.models, slot, 1, path.join(work, 'v1'));
    await until(async () => (await stateOf(1)) === 'AVAILABLE');
    expect(await call('GET', `/v1/models/${slot}`)).toEqual({
      status: 200,
      body: { model_version_status: [{ version: '1', state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } }] },
    });
  });

  it('describes the serving_default signature in /metadata', async () => {
    const { status, body } = await call('GET', `/v1/models/${slot}/versions/1/metadata`);
    expect(status).toBe(200);
    expect(body.model_spec).toEqual({ name: slot, signature_name: '', version: '1' });
    const sig = (body.metadata as { signature_def: { signature_def: Record<string, { inputs: Record<string, { dtype: string; tensor_shape: { dim: { size: string }[] }; name: string }>; outputs: Record<string, { dtype: string; name: string }>; method_name: string }> } }).signature_def.signature_def.serving_default;
    expect(sig.method_name).toBe('tensorflow/serving/predict');
    expect(Object.keys(sig.inputs).sort()).toEqual(['products', 'users']);
    expect(sig.inputs.users.tensor_shape.dim.map((d) => d.size)).toEqual(['-1', '1']);
    expect(sig.inputs.users.dtype).toMatch(/^DT_INT(32|64)$/);
    expect(sig.outputs.predictions.dtype).toBe('DT_FLOAT');
  });

  it('predicts in the row (instances) form, matching the network computed by hand', async () => {
    const pairs = [[0, 0], [3, 17], [49, 19], [7, 7]];
    const { status, body } = await call('POST', `/v1/models/${slot}:predict`, {
      signature_name: 'serving_default',
      instances: pairs.map(([u, p]) => ({ users: [u], products: [p] })),
    });
    expect(status).toBe(200);
    const predictions = body.predictions as number[][];
    expect(predictions).toHaveLength(4);
    predictions.forEach((row, i) => expect(row[0]).toBeCloseTo(forward(w1, pairs[i][0], pairs[i][1]), 5));
  });

  it('predicts in the columnar (inputs) form at a named version', async () => {
    const { status, body } = await call('POST', `/v1/models/${slot}/versions/1:predict`, { inputs: { users: [[3], [3]], products: [[17], [2]] } });
    expect(status).toBe(200);
    const outputs = body.outputs as number[][];
    expect(outputs[0][0]).toBeCloseTo(forward(w1, 3, 17), 5);
    expect(outputs[1][0]).toBeCloseTo(forward(w1, 3, 2), 5);
  });

  it.each([
    ['malformed JSON', '{"instances": [', /JSON/],
    ['neither instances nor inputs', { foo: 1 }, /exactly one of "instances"/],
    ['a string id', { instances: [{ users: ['a'], products: [1] }] }, /instances\[0\]\.users: expected an integer id/],
    ['a float id', { instances: [{ users: [1.5], products: [1] }] }, /instances\[0\]\.users/],
    ['a negative id', { inputs: { users: [[-1]], products: [[1]] } }, /inputs\.users\[0\]: id -1 is outside/],
    ['a missing input', { instances: [{ users: [1] }] }, /missing input "products"/],
    ['an unknown signature', { signature_name: 'other', instances: [{ users: [1], products: [1] }] }, /signature name: "other" not found/],
    ['an oversized batch', { instances: Array.from({ length: 101 }, () => ({ users: [1], products: [1] })) }, /exceeds the maximum of 100/],
    ['a user id beyond the embedding table', { instances: [{ users: [50], products: [1] }] }, /./],
    ['a product id beyond the embedding table', { instances: [{ users: [1], products: [20] }] }, /./],
    ['a body over the size limit', { instances: [{ users: [1], products: [1] }], pad: 'x'.repeat(70_000) }, /exceeds the limit/],
  ])('rejects %s with a 400 and an error message', async (_what, body, message) => {
    const res = await call('POST', `/v1/models/${slot}:predict`, body);
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(message);
    // and the slot keeps serving
    expect((await call('POST', `/v1/models/${slot}:predict`, { instances: [{ users: [1], products: [1] }] })).status).toBe(200);
  });

  it('answers 404 for an unknown model or version', async () => {
    expect(await call('GET', `/v1/models/nope`)).toEqual({ status: 404, body: { error: 'Servable not found for request: Latest(nope)' } });
    expect(await call('GET', `/v1/models/${slot}/versions/42`)).toEqual({ status: 404, body: { error: `Servable not found for request: Specific(${slot}, 42)` } });
    expect((await call('POST', `/v1/models/${slot}/versions/42:predict`, { instances: [{ users: [1], products: [1] }] })).status).toBe(404);
  });

  it('switches to a newer version and unloads the old one only after', async () => {
    await uploadVersionDir(minio, cfg.buckets.models, slot, 2, path.join(work, 'v2'));
    await until(async () => (await stateOf(2)) === 'AVAILABLE');
    expect(await stateOf(1)).toBe('END');
    const { body } = await call('POST', `/v1/models/${slot}:predict`, { instances: [{ users: [55], products: [25] }] });
    expect((body.predictions as number[][])[0][0]).toBeCloseTo(forward(w2, 55, 25), 5);
  });

  it('reports a version that fails to load and keeps serving the previous one', async () => {
    // claimed and complete (digests match), but not a SavedModel
    const bad = path.join(work, 'bad');
    await fs.mkdir(path.join(bad, 'variables'), { recursive: true });
    for (const f of ['variables/variables.data-00000-of-00001', 'variables/variables.index', 'saved_model.pb']) await fs.writeFile(path.join(bad, f), 'garbage');
    await uploadVersionDir(minio, cfg.buckets.models, slot, 3, bad);
    await until(async () => (await stateOf(3)) === 'END');
    const status = (await call('GET', `/v1/models/${slot}/versions/3`)).body.model_version_status as { status: { error_code: string; error_message: string } }[];
    expect(status[0].status.error_code).not.toBe('OK');
    expect(status[0].status.error_message).toMatch(/Failed to load version 3/);
    expect(await stateOf(2)).toBe('AVAILABLE');
    expect((await call('POST', `/v1/models/${slot}:predict`, { instances: [{ users: [1], products: [1] }] })).status).toBe(200);
  });
});
