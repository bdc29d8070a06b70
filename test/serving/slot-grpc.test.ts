/**
 * The slot's gRPC API (TF Serving's PredictionService and ModelService)
 * driven by TF Serving's OFFICIAL Python client, tensorflow-serving-api
 * 2.21.0, against a real slot serving a real exported SavedModel from MinIO;
 * the exporter's warm-up file parsed by the same package's PredictionLog and
 * TensorFlow's own TFRecord reader; readiness by gRPC GetModelStatus.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config';
import { REPO_ROOT } from '../../src/process/children';
import { exportSavedModel } from '../../src/savedmodel';
import { WARMUP_FILE } from '../../src/savedmodel/warmup';
import { servingActivities } from '../../src/serving/activities';
import type { ReadinessResult } from '../../src/workflows/types';
import { pollVersionStateGrpc, TfServingGrpcClient, waitUntilServing } from '../../src/serving/readiness';
import { startSlotServer, type SlotServer } from '../../src/serving/slot/server';
import { createMinioClient } from '../../src/storage/minio-client';
import { removePrefix, tempDir, uploadVersionDir } from '../helpers/minio';
import { forward, randomWeights } from '../helpers/network';

const run = promisify(execFile);
const cfg = loadConfig();
const minio = createMinioClient(cfg.minio);
const slot = `grpc-test-${randomUUID().slice(0, 8)}`;
const w1 = randomWeights(50, 20, 8, 6, 3, 'sigmoid');
const here = __dirname;
let venvPython: string;
let server: SlotServer;
let work: string;

async function python(...args: string[]): Promise<Record<string, unknown>> {
  const { stdout } = await run(venvPython, [path.join(here, 'python/tfs_client.py'), ...args], {
    env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3' },
    timeout: 120_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
}

beforeAll(async () => {
  // the official client's venv (setup.sh --for-tests installs it; idempotent)
  const { stdout } = await run('bash', [path.join(REPO_ROOT, 'deploy/local/tfs-client.sh'), '--python'], { timeout: 900_000 });
  venvPython = stdout.trim().split('\n').at(-1)!;
  work = await tempDir('slot-grpc');
  await exportSavedModel(w1, path.join(work, 'v1'));
  server = await startSlotServer({
    name: slot,
    host: '127.0.0.1',
    port: 0,
    grpcPort: 0,
    client: minio,
    bucket: cfg.buckets.models,
    pollIntervalMs: 200,
  });
}, 900_000);

afterAll(async () => {
  await server?.close();
  await removePrefix(minio, cfg.buckets.models, `${slot}/`);
  await fs.rm(work, { recursive: true, force: true });
});

describe('slot gRPC API with the official TF Serving Python client', () => {
  it('writes a warm-up file that TensorFlow reads as TFRecord and tensorflow-serving-api parses as PredictionLog', async () => {
    const { records } = (await python('warmup', path.join(work, 'v1', WARMUP_FILE))) as {
      records: {
        signature_name: string;
        users_shape: number[];
        products_shape: number[];
        dtype: string;
        one_user: boolean;
        max_user: number;
        max_product: number;
      }[];
    };
    expect(records).toHaveLength(300);
    for (const r of records) {
      expect(r.signature_name).toBe('serving_default');
      expect(r.dtype).toBe('int32');
      expect(r.one_user).toBe(true);
      expect(r.users_shape).toEqual(r.products_shape);
      expect(r.users_shape[1]).toBe(1);
      expect(r.users_shape[0]).toBeGreaterThanOrEqual(1);
      expect(r.users_shape[0]).toBeLessThanOrEqual(30);
      expect(r.max_user).toBeLessThan(50);
      expect(r.max_product).toBeLessThan(20);
    }
    expect(Math.max(...records.map((r) => r.max_user))).toBe(49);
    expect(Math.max(...records.map((r) => r.max_product))).toBe(19);
  }, 180_000);

  it('answers Predict, GetModelMetadata and GetModelStatus as TF Serving does, after replaying the warm-up', async () => {
    const client = new TfServingGrpcClient(server.grpcAddress!);
    try {
      expect(await pollVersionStateGrpc(client, slot, 1)).toMatchObject({ state: 'NOT_FOUND' });
      // the publisher's layout: warm-up file among the variables, saved_model.pb last
      await uploadVersionDir(minio, cfg.buckets.models, slot, 1, path.join(work, 'v1'));
      // readiness by gRPC GetModelStatus + a gRPC smoke prediction
      const ready = await waitUntilServing({
        baseUrl: server.url,
        api: 'grpc',
        grpcAddress: server.grpcAddress,
        slot,
        version: 1,
        deadlineMs: Date.now() + 30_000,
        initialDelayMs: 100,
      });
      expect(ready.smokePrediction).toBeCloseTo(forward(w1, 0, 0), 5);
    } finally {
      client.close();
    }
    // AVAILABLE only after every warm-up record was replayed
    expect(server.manager.warmupRecords(1)).toBe(300);

    const out = (await python('grpc', server.grpcAddress!, slot, '1')) as {
      predict: { shape: number[]; dtype: string; scores: number[]; model_spec: { name: string; version: number } };
      predict_int64: number[];
      errors: Record<string, { code: string; details: string }>;
      metadata: {
        version: number;
        method_name: string;
        inputs: Record<string, { dtype: string; shape: number[] }>;
        outputs: Record<string, { dtype: string; shape: number[] }>;
      };
      status: { version: number; state: string; error_code: number; error_message: string }[];
    };
    expect(out.predict.shape).toEqual([3, 1]);
    expect(out.predict.dtype).toBe('float32');
    [
      [0, 0],
      [3, 17],
      [3, 2],
    ].forEach(([u, p], i) => expect(out.predict.scores[i]).toBeCloseTo(forward(w1, u, p), 5));
    expect(out.predict.model_spec).toEqual({ name: slot, version: 1 });
    expect(out.predict_int64[0]).toBeCloseTo(forward(w1, 3, 17), 5);
    expect(out.errors.unknown_model).toEqual({ code: 'NOT_FOUND', details: 'Servable not found for request: Latest(nope)' });
    expect(out.errors.bad_shape.code).toBe('INVALID_ARGUMENT');
    expect(out.errors.bad_shape.details).toMatch(/expected shape \[n, 1\], got \[2\]/);
    expect(out.metadata).toEqual({
      version: 1,
      method_name: 'tensorflow/serving/predict',
      inputs: { users: { dtype: 'int32', shape: [-1, 1] }, products: { dtype: 'int32', shape: [-1, 1] } },
      outputs: { predictions: { dtype: 'float32', shape: [-1, 1] } },
    });
    expect(out.status).toEqual([{ version: 1, state: 'AVAILABLE', error_code: 0, error_message: '' }]);
  }, 180_000);

  it('answers hostile gRPC calls with TF Serving’s status codes and keeps serving', async () => {
    const client = new TfServingGrpcClient(server.grpcAddress!);
    const ids = (n: number, dtype = 3) => ({
      dtype,
      tensorShape: { dim: [{ size: n }, { size: 1 }] },
      intVal: Array.from({ length: n }, () => 1),
    });
    const spec = { name: slot, signatureName: 'serving_default' };
    const codeOf = async (call: Promise<unknown>) =>
      call.then(
        () => 'OK',
        (e: grpc.ServiceError) => `${grpc.status[e.code]}: ${e.details}`,
      );
    try {
      expect(await codeOf(client.predict({ inputs: { users: ids(1), products: ids(1) } }))).toBe('INVALID_ARGUMENT: Missing ModelSpec');
      expect(await codeOf(client.predict({ modelSpec: spec, inputs: { users: ids(1) } }))).toMatch(
        /^INVALID_ARGUMENT: input "products" is missing/,
      );
      expect(await codeOf(client.predict({ modelSpec: spec, inputs: { users: ids(1, 1), products: ids(1, 1) } }))).toMatch(
        /^INVALID_ARGUMENT: input "\w+": expects dtype DT_INT32 or DT_INT64, got DT_FLOAT/,
      );
      expect(await codeOf(client.predict({ modelSpec: spec, inputs: { users: ids(2), products: ids(1) } }))).toMatch(
        /^INVALID_ARGUMENT: input "\w+" has \d rows but "\w+" has \d/,
      );
      expect(
        await codeOf(client.predict({ modelSpec: { ...spec, signatureName: 'other' }, inputs: { users: ids(1), products: ids(1) } })),
      ).toMatch(/^INVALID_ARGUMENT: Serving signature name: "other" not found/);
      const negative = { dtype: 3, tensorShape: { dim: [{ size: -5 }, { size: 1 }] }, intVal: [] };
      expect(await codeOf(client.predict({ modelSpec: spec, inputs: { users: negative, products: negative } }))).toMatch(
        /^INVALID_ARGUMENT: input "\w+": dimension 0 is -5/,
      );
      const content = { dtype: 3, tensorShape: { dim: [{ size: 2 }, { size: 1 }] }, tensorContent: Buffer.alloc(7) };
      expect(await codeOf(client.predict({ modelSpec: spec, inputs: { users: content, products: content } }))).toMatch(
        /tensor_content has 7 bytes, expected 8/,
      );
      const tooMany = { dtype: 3, tensorShape: { dim: [{ size: 100_001 }, { size: 1 }] }, tensorContent: Buffer.alloc(400_004) };
      expect(await codeOf(client.predict({ modelSpec: spec, inputs: { users: tooMany, products: tooMany } }))).toMatch(
        /^INVALID_ARGUMENT: batch of 100001 rows exceeds the maximum of 100000/,
      );
      // one message over the 16 MiB limit is refused by gRPC itself
      const huge = { dtype: 3, tensorShape: { dim: [{ size: 4_200_000 }, { size: 1 }] }, tensorContent: Buffer.alloc(16_800_000) };
      expect(await codeOf(client.predict({ modelSpec: spec, inputs: { users: huge } }))).toMatch(/^RESOURCE_EXHAUSTED/);
      expect(await codeOf(client.getModelStatus('nope'))).toBe('NOT_FOUND: Could not find any versions of model nope');
      expect(await codeOf(client.getModelStatus(slot, 42))).toBe(`NOT_FOUND: Could not find version 42 of model ${slot}`);
      // and a 20,000-row batch is one call, scored right
      const n = 20_000;
      const users = Int32Array.from({ length: n }, (_, i) => i % 50);
      const products = Int32Array.from({ length: n }, (_, i) => (i * 7) % 20);
      const tensor = (v: Int32Array) => ({
        dtype: 3,
        tensorShape: { dim: [{ size: n }, { size: 1 }] },
        tensorContent: Buffer.from(v.buffer),
      });
      const res = await client.predict({ modelSpec: spec, inputs: { users: tensor(users), products: tensor(products) } });
      const scores = new Float32Array(Uint8Array.from(res.outputs!.predictions.tensorContent!).buffer);
      expect(scores).toHaveLength(n);
      for (const i of [0, 1, n - 1]) expect(scores[i]).toBeCloseTo(forward(w1, users[i], products[i]), 5);
    } finally {
      client.close();
    }
  }, 60_000);

  it('runs the workflow’s readiness activity over gRPC when READINESS_API=grpc', async () => {
    const grpcPort = server.grpcAddress!.split(':')[1];
    const config = loadConfig({
      ...process.env,
      SLOT_NAMES: `${slot},${slot}-other`,
      SLOT_PORTS: `${new URL(server.url).port},1`,
      SLOT_GRPC_PORTS: `${grpcPort},2`,
      READINESS_API: 'grpc',
    });
    const env = new MockActivityEnvironment();
    const polls: unknown[] = [];
    env.on('heartbeat', (d: unknown) => polls.push(d));
    const result: ReadinessResult = await env.run(servingActivities(config).waitForStandbyReady, {
      slot,
      version: 1,
      deadlineMs: Date.now() + 20_000,
    });
    expect(result).toMatchObject({ slot, version: 1, polls: 1 });
    expect(result.smokePrediction).toBeCloseTo(forward(w1, 0, 0), 5);
    expect(polls).toEqual([{ polls: 1, state: 'AVAILABLE', detail: '', waitedMs: expect.any(Number) }]);
    // an unknown version is NOT_FOUND by gRPC too, until the deadline
    await expect(
      env.run(servingActivities(config).waitForStandbyReady, { slot, version: 9, deadlineMs: Date.now() + 500 }),
    ).rejects.toThrow(/did not report version 9 AVAILABLE before the deadline .*last: NOT_FOUND Could not find version 9 of model/);
  }, 60_000);
});
