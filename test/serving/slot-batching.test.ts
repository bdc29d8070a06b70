/**
 * Server-side batching of a real slot (TensorFlow's own loader, a SavedModel
 * in the real MinIO): concurrent predict calls over REST and gRPC are scored
 * in fewer session runs than calls, each caller gets exactly its own scores,
 * and one call with an id beyond the tables fails alone.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config';
import { exportSavedModel } from '../../src/savedmodel';
import { TfServingGrpcClient } from '../../src/serving/readiness';
import { startSlotServer, type SlotServer } from '../../src/serving/slot/server';
import { createMinioClient } from '../../src/storage/minio-client';
import { removePrefix, tempDir, uploadVersionDir } from '../helpers/minio';
import { forward, randomWeights } from '../helpers/network';

const cfg = loadConfig();
const minio = createMinioClient(cfg.minio);
const slot = `batch-test-${randomUUID().slice(0, 8)}`;
const weights = randomWeights(40, 25, 8, 6, 7, 'sigmoid');
let server: SlotServer;

async function predict(users: number[], products: number[]) {
  const res = await fetch(`${server.url}/v1/models/${slot}:predict`, {
    method: 'POST',
    body: JSON.stringify({ inputs: { users: users.map((u) => [u]), products: products.map((p) => [p]) } }),
  });
  return { status: res.status, body: (await res.json()) as { outputs?: number[][]; error?: string } };
}

beforeAll(async () => {
  const work = await tempDir('batch-test');
  await exportSavedModel(weights, path.join(work, 'v1'));
  server = await startSlotServer({
    name: slot,
    host: '127.0.0.1',
    port: 0,
    grpcPort: 0,
    client: minio,
    bucket: cfg.buckets.models,
    pollIntervalMs: 200,
    // a batch stays open 5 ms, so that calls sent together are sure to meet
    batching: { maxBatchSize: 1000, batchTimeoutMicros: 5000 },
  });
  await uploadVersionDir(minio, cfg.buckets.models, slot, 1, path.join(work, 'v1'));
  const end = Date.now() + 60_000;
  while (!server.manager.servable()) {
    if (Date.now() > end) throw new Error('version 1 never became AVAILABLE');
    await new Promise((r) => setTimeout(r, 100));
  }
});

afterAll(async () => {
  await server?.close();
  await removePrefix(minio, cfg.buckets.models, `${slot}/`);
});

describe('server-side batching', () => {
  it('scores concurrent REST calls in fewer session runs, each caller getting its own scores', async () => {
    const before = server.service.batchingStats();
    const calls = Array.from({ length: 16 }, (_, i) => ({ users: [i, i + 1, i + 2], products: [i % 25, (i * 7) % 25, 24] }));
    const answers = await Promise.all(calls.map((c) => predict(c.users, c.products)));
    const after = server.service.batchingStats();
    for (const [i, a] of answers.entries()) {
      expect(a.status).toBe(200);
      const expected = calls[i].users.map((u, j) => forward(weights, u, calls[i].products[j]));
      expect(a.body.outputs!.map((o) => o[0])).toEqual(expected.map((x) => expect.closeTo(x, 5)));
    }
    expect(after.calls - before.calls).toBe(16);
    expect(after.runs - before.runs).toBeLessThan(16);
  });

  it('fails only the call with an id beyond the tables; the others in its batch are answered', async () => {
    const good = Array.from({ length: 6 }, (_, i) => predict([i], [i]));
    const bad = predict([0], [25]); // 25 products: id 25 is out of range
    const answers = await Promise.all([...good, bad]);
    expect(answers.slice(0, 6).map((a) => a.status)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(answers[6].status).toBe(400);
    expect(answers[6].body.error).toMatch(/not in \[0, 25\)/);
  });

  it('batches gRPC Predict calls with REST ones, through the same service', async () => {
    const grpc = new TfServingGrpcClient(server.grpcAddress!);
    try {
      const before = server.service.batchingStats();
      const ids = (v: number) => ({ dtype: 3 /* DT_INT32 */, tensorShape: { dim: [{ size: 1 }, { size: 1 }] }, intVal: [v] });
      const score = async (u: number, p: number) => {
        const out = (await grpc.predict({ modelSpec: { name: slot }, inputs: { users: ids(u), products: ids(p) } })).outputs?.predictions;
        return out?.tensorContent?.length === 4 ? [Buffer.from(out.tensorContent).readFloatLE(0)] : out?.floatVal;
      };
      const viaGrpc = Array.from({ length: 4 }, (_, i) => score(i, i + 1));
      const viaRest = Array.from({ length: 4 }, (_, i) => predict([i], [i + 1]));
      const [g, r] = await Promise.all([Promise.all(viaGrpc), Promise.all(viaRest)]);
      for (let i = 0; i < 4; i++) {
        expect(g[i]).toEqual([expect.closeTo(forward(weights, i, i + 1), 5)]);
        expect(r[i].body.outputs).toEqual([[expect.closeTo(forward(weights, i, i + 1), 5)]]);
      }
      expect(server.service.batchingStats().runs - before.runs).toBeLessThan(8);
    } finally {
      grpc.close();
    }
  });
});
