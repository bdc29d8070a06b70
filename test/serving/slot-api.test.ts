/**
 * Conformance of a model slot with the TF Serving REST subset of docs/design.md:
 * status, metadata, both predict forms, the error cases with TF Serving's
 * status codes (400 InvalidArgument for anything malformed, 404 only for an
 * unknown model or version, 413 for a body over the limit), hostile bodies
 * (deep nesting, size), warm-up replay, and version management (newest
 * complete version, unload after load, failed loads).
 * Real MinIO, real SavedModels loaded by TensorFlow's own loader.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config';
import { exportSavedModel } from '../../src/savedmodel';
import { encodeTfRecords, WARMUP_FILE, warmupRecords } from '../../src/savedmodel/warmup';
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
/** same slot, default limits (16 MiB bodies, 100,000 rows) */
let big: SlotServer;
let work: string;

async function call(method: string, urlPath: string, body?: unknown, on: SlotServer = server) {
  const res = await fetch(`${on.url}${urlPath}`, {
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

/** The version directory as the publisher writes it: the warm-up file too, saved_model.pb last. */
async function uploadWithWarmup(version: number, dir: string) {
  await uploadVersionDir(minio, cfg.buckets.models, slot, version, dir);
}

async function metricValue(on: SlotServer, series: string): Promise<number> {
  const text = await (await fetch(`${on.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

const stateOf = async (v: number) =>
  ((await call('GET', `/v1/models/${slot}/versions/${v}`)).body.model_version_status as { state: string }[] | undefined)?.[0]?.state;

beforeAll(async () => {
  work = await tempDir('slot-test');
  await exportSavedModel(w1, path.join(work, 'v1'));
  await exportSavedModel(w2, path.join(work, 'v2'));
  server = await startSlotServer({
    name: slot,
    host: '127.0.0.1',
    port: 0,
    client: minio,
    bucket: cfg.buckets.models,
    pollIntervalMs: 200,
    maxBatch: 100,
    bodyLimit: 64 * 1024,
  });
  big = await startSlotServer({ name: slot, host: '127.0.0.1', port: 0, client: minio, bucket: cfg.buckets.models, pollIntervalMs: 200 });
});

afterAll(async () => {
  await server?.close();
  await big?.close();
  await removePrefix(minio, cfg.buckets.models, `${slot}/`);
  await fs.rm(work, { recursive: true, force: true });
});

describe('model slot (TF Serving REST API)', () => {
  it('answers 404 with an error before any version exists', async () => {
    expect(await call('GET', `/v1/models/${slot}`)).toEqual({
      status: 404,
      body: { error: `Could not find any versions of model ${slot}` },
    });
    expect(await call('POST', `/v1/models/${slot}:predict`, { instances: [{ users: [0], products: [0] }] })).toEqual({
      status: 404,
      body: { error: `Servable not found for request: Latest(${slot})` },
    });
  });

  it('loads a complete version and reports it AVAILABLE in TF Serving’s status format', async () => {
    await uploadWithWarmup(1, path.join(work, 'v1'));
    await until(async () => (await stateOf(1)) === 'AVAILABLE');
    await until(async () => big.manager.servable(1) !== undefined);
    expect(await call('GET', `/v1/models/${slot}`)).toEqual({
      status: 200,
      body: { model_version_status: [{ version: '1', state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } }] },
    });
  });

  it('describes the serving_default signature in /metadata', async () => {
    const { status, body } = await call('GET', `/v1/models/${slot}/versions/1/metadata`);
    expect(status).toBe(200);
    expect(body.model_spec).toEqual({ name: slot, signature_name: '', version: '1' });
    const sig = (
      body.metadata as {
        signature_def: {
          signature_def: Record<
            string,
            {
              inputs: Record<string, { dtype: string; tensor_shape: { dim: { size: string }[] }; name: string }>;
              outputs: Record<string, { dtype: string; name: string }>;
              method_name: string;
            }
          >;
        };
      }
    ).signature_def.signature_def.serving_default;
    expect(sig.method_name).toBe('tensorflow/serving/predict');
    expect(Object.keys(sig.inputs).sort()).toEqual(['products', 'users']);
    expect(sig.inputs.users.tensor_shape.dim.map((d) => d.size)).toEqual(['-1', '1']);
    expect(sig.inputs.users.dtype).toMatch(/^DT_INT(32|64)$/);
    expect(sig.outputs.predictions.dtype).toBe('DT_FLOAT');
  });

  it('predicts in the row (instances) form, matching the network computed by hand', async () => {
    const pairs = [
      [0, 0],
      [3, 17],
      [49, 19],
      [7, 7],
    ];
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
    const { status, body } = await call('POST', `/v1/models/${slot}/versions/1:predict`, {
      inputs: { users: [[3], [3]], products: [[17], [2]] },
    });
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
    ['a non-object body', '[1, 2]', /must be a JSON object/],
    ['an empty body', '', /JSON Parse error/],
    ['nesting beyond the depth limit', `{"instances": ${'['.repeat(40)}${']'.repeat(40)}}`, /nesting deeper than 32 levels at offset 45/],
    [
      'ids of unequal length in the columnar form',
      { inputs: { users: [[1], [2]], products: [[1]] } },
      /inputs\.(users|products) has \d rows but inputs\.(users|products) has \d/,
    ],
    ['an unknown input', { inputs: { users: [[1]], products: [[1]], extra: [[1]] } }, /unknown input "extra"/],
    ['an id beyond int32', { instances: [{ users: [2 ** 31], products: [1] }] }, /outside \[0, 2147483647\]/],
  ])('rejects %s with a 400 and an error message', async (_what, body, message) => {
    const res = await call('POST', `/v1/models/${slot}:predict`, body);
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(message);
    // and the slot keeps serving
    expect((await call('POST', `/v1/models/${slot}:predict`, { instances: [{ users: [1], products: [1] }] })).status).toBe(200);
  });

  it('answers 404 for an unknown model or version, with TF Serving’s messages', async () => {
    expect(await call('GET', `/v1/models/nope`)).toEqual({ status: 404, body: { error: 'Could not find any versions of model nope' } });
    expect(await call('GET', `/v1/models/${slot}/versions/42`)).toEqual({
      status: 404,
      body: { error: `Could not find version 42 of model ${slot}` },
    });
    expect(await call('GET', `/v1/models/${slot}/versions/42/metadata`)).toEqual({
      status: 404,
      body: { error: `Servable not found for request: Specific(${slot}, 42)` },
    });
    expect(await call('POST', `/v1/models/nope:predict`, { instances: [{ users: [1], products: [1] }] })).toEqual({
      status: 404,
      body: { error: 'Servable not found for request: Latest(nope)' },
    });
    expect(await call('POST', `/v1/models/${slot}/versions/42:predict`, { instances: [{ users: [1], products: [1] }] })).toEqual({
      status: 404,
      body: { error: `Servable not found for request: Specific(${slot}, 42)` },
    });
    expect((await call('GET', '/not-v1')).status).toBe(404);
  });

  it.each([
    ['GET on :predict', 'GET', `:predict`, /^Malformed request: GET \/v1\/models\/.*:predict$/],
    ['POST on the status URL', 'POST', ``, /^Malformed request: POST/],
    ['PUT on :predict', 'PUT', `:predict`, /^Malformed request: PUT/],
    ['an unknown verb', 'POST', `:explain`, /^Malformed request/],
    ['a non-numeric version', 'GET', `/versions/abc`, /^Malformed request/],
    ['a version beyond 2^53', 'GET', `/versions/123456789012345678901`, /Failed to convert version: 123456789012345678901 to numeric/],
    ['an unknown path under /v1', 'GET', `/labels/stable/extra`, /^Malformed request/],
    [':classify on a predict signature', 'POST', `:classify`, /classify is not supported/],
  ])('answers %s with a 400 (InvalidArgument), as TF Serving does', async (_what, method, suffix, message) => {
    const res = await call(
      method,
      `/v1/models/${slot}${suffix}`,
      method === 'GET' ? undefined : { instances: [{ users: [1], products: [1] }] },
    );
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(message);
    expect(await call('GET', '/v1/models')).toEqual({ status: 400, body: { error: 'Missing model name in request.' } });
  });

  it('refuses a body over the size limit with a 413 before reading it whole', async () => {
    const res = await call('POST', `/v1/models/${slot}:predict`, { instances: [{ users: [1], products: [1] }], pad: 'x'.repeat(70_000) });
    expect(res.status).toBe(413);
    expect(res.body.error).toMatch(/request body of \d+ bytes exceeds the limit of 65536 bytes/);
    expect((await call('POST', `/v1/models/${slot}:predict`, { instances: [{ users: [1], products: [1] }] })).status).toBe(200);
  });

  it('rejects a 6 MB deeply nested body at once, without blocking the slot', async () => {
    const depth = 3_000_000;
    const body = `{"inputs": {"users": ${'['.repeat(depth)}${']'.repeat(depth)}}}`;
    expect(body.length).toBeGreaterThan(6_000_000);
    const started = performance.now();
    const [res, health] = await Promise.all([
      call('POST', `/v1/models/${slot}:predict`, body, big),
      call('GET', '/healthz', undefined, big),
    ]);
    const ms = performance.now() - started;
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(/nesting deeper than 32 levels at offset 51/);
    expect(health.status).toBe(200);
    // the seed's slot spent ~2 s on such a body; the scan stops at byte 51
    expect(ms).toBeLessThan(1000);
  });

  it('caps the rows of one predict call (default 100,000) and scores a 20,000-row columnar batch in one call', async () => {
    const rows = 20_000;
    const users = Array.from({ length: rows }, (_, i) => [i % 50]);
    const products = Array.from({ length: rows }, (_, i) => [(i * 7) % 20]);
    const runsBefore = await metricValue(big, 'slot_predict_calls_total{api="rest",outcome="ok"}');
    const res = await call('POST', `/v1/models/${slot}/versions/1:predict`, { inputs: { users, products } }, big);
    expect(res.status).toBe(200);
    const outputs = res.body.outputs as number[][];
    expect(outputs).toHaveLength(rows);
    for (const i of [0, 1, 9_999, rows - 1]) expect(outputs[i][0]).toBeCloseTo(forward(w1, users[i][0], products[i][0]), 5);
    expect(await metricValue(big, 'slot_predict_calls_total{api="rest",outcome="ok"}')).toBe(runsBefore + 1);
    const over = Array.from({ length: 100_001 }, () => [1]);
    const rejected = await call('POST', `/v1/models/${slot}:predict`, { inputs: { users: over, products: over } }, big);
    expect(rejected.status).toBe(400);
    expect(rejected.body.error).toMatch(/batch of 100001 rows exceeds the maximum of 100000 rows per predict call/);
  });

  it('replayed the version’s warm-up records before reporting it AVAILABLE', async () => {
    expect(server.manager.warmupRecords(1)).toBe(300);
    expect(await metricValue(server, 'slot_warmup_records_total{version="1"}')).toBe(300);
  });

  it('switches to a newer version and unloads the old one only after', async () => {
    await uploadVersionDir(minio, cfg.buckets.models, slot, 2, path.join(work, 'v2'));
    await until(async () => (await stateOf(2)) === 'AVAILABLE');
    // UNLOADING is reported before the old servable goes, END once its files are removed
    await until(async () => (await stateOf(1)) === 'END');
    const { body } = await call('POST', `/v1/models/${slot}:predict`, { instances: [{ users: [55], products: [25] }] });
    expect((body.predictions as number[][])[0][0]).toBeCloseTo(forward(w2, 55, 25), 5);
  });

  it('reports a version that fails to load and keeps serving the previous one', async () => {
    // claimed and complete (digests match), but not a SavedModel
    const bad = path.join(work, 'bad');
    await fs.mkdir(path.join(bad, 'variables'), { recursive: true });
    for (const f of ['variables/variables.data-00000-of-00001', 'variables/variables.index', 'saved_model.pb'])
      await fs.writeFile(path.join(bad, f), 'garbage');
    await uploadVersionDir(minio, cfg.buckets.models, slot, 3, bad);
    await until(async () => (await stateOf(3)) === 'END');
    const status = (await call('GET', `/v1/models/${slot}/versions/3`)).body.model_version_status as {
      status: { error_code: string; error_message: string };
    }[];
    expect(status[0].status.error_code).not.toBe('OK');
    expect(status[0].status.error_message).toMatch(/Failed to load version 3/);
    expect(await stateOf(2)).toBe('AVAILABLE');
    expect((await call('POST', `/v1/models/${slot}:predict`, { instances: [{ users: [1], products: [1] }] })).status).toBe(200);
  });
});

describe('warm-up replay failures (hostile warm-up files)', () => {
  it.each([
    [
      'a record with a bad checksum',
      4,
      (bytes: Buffer) => {
        bytes[20] ^= 0xff;
        return bytes;
      },
      /bad data checksum of the record at byte 0/,
    ],
    [
      'an id beyond the embedding table',
      5,
      () => encodeTfRecords(warmupRecords({ userRows: 1000, productRows: 20, idDtype: 'int32', records: 3 })),
      /warm-up record \d failed/,
    ],
  ])('fails the version whose warm-up file has %s, and the previous version keeps serving', async (_what, version, mutate, message) => {
    // a copy of v2 whose warm-up file is replaced (published with its own digest, so only the replay can catch it)
    const dir = path.join(work, `tampered-${version}`);
    await fs.cp(path.join(work, 'v2'), dir, { recursive: true });
    const tampered = mutate(Buffer.from(await fs.readFile(path.join(work, 'v1', WARMUP_FILE))));
    await fs.writeFile(path.join(dir, WARMUP_FILE), tampered);
    await uploadVersionDir(minio, cfg.buckets.models, slot, version, dir);
    await until(async () => (await stateOf(version)) === 'END');
    const status = (await call('GET', `/v1/models/${slot}/versions/${version}`)).body.model_version_status as {
      status: { error_code: string; error_message: string };
    }[];
    expect(status[0].status.error_code).toBe('UNKNOWN');
    expect(status[0].status.error_message).toMatch(message);
    expect(await stateOf(2)).toBe('AVAILABLE');
    expect((await call('POST', `/v1/models/${slot}:predict`, { instances: [{ users: [1], products: [1] }] })).status).toBe(200);
  });
});
