/**
 * Large-batch benchmark of one slot: the model server sends one columnar
 * predict call of up to 20,000 (user, product) rows for many requests, so
 * what counts is rows/second of ONE such call end to end (HTTP, JSON parse,
 * one session run, JSON reply) against the anchor of the same model's bare
 * session run on the same rows, measured in the same run.
 *
 *   npx tsx bench/slot-batch.ts                   # in-process slot (this code)
 *   npx tsx bench/slot-batch.ts --url http://127.0.0.1:PORT --slot NAME
 *                                                 # an already running slot (e.g. an older build)
 *
 * It exports a seed-size model (1000 users × 300 products, dim 50, hidden 50),
 * publishes it to MinIO under a private slot name and removes it afterwards.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { performance } from 'node:perf_hooks';
import { Command } from 'commander';
import * as tf from '@tensorflow/tfjs-node';
import { loadConfig } from '../src/config';
import { exportSavedModel } from '../src/savedmodel';
import { parsePredictBody, predictResponseBody } from '../src/serving/slot/predict-request';
import { scoreColumns } from '../src/serving/slot/scoring';
import { TfServingGrpcClient } from '../src/serving/readiness';
import { startSlotServer } from '../src/serving/slot/server';
import { createMinioClient } from '../src/storage/minio-client';
import { listKeys, removeKeys } from '../src/storage/objects';
import { seedWeights } from './seed-weights';

const USERS = 1000;
const PRODUCTS = 300;

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

async function main(): Promise<void> {
  const o = new Command()
    .option('--url <url>', 'base URL of a running slot (default: start one in this process)')
    .option('--slot <name>', 'slot name (with --url)')
    .option('--rows <n>', 'rows per call', (v) => Number(v), 20_000)
    .option('--calls <n>', 'calls to time', (v) => Number(v), 30)
    .parse()
    .opts<{ url?: string; slot?: string; rows: number; calls: number }>();
  const cfg = loadConfig();
  const minio = createMinioClient(cfg.minio);
  const slot = o.slot ?? `bench-batch-${randomUUID().slice(0, 8)}`;
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'slot-batch-'));
  const dir = path.join(work, 'v1');
  const manifest = await exportSavedModel(seedWeights(USERS, PRODUCTS), dir);
  for (const f of manifest.files) await minio.fPutObject(cfg.buckets.models, `${slot}/1/${f.path}`, path.join(dir, f.path));
  const server = o.url
    ? undefined
    : await startSlotServer({
        name: slot,
        host: '127.0.0.1',
        port: 0,
        grpcPort: 0,
        client: minio,
        bucket: cfg.buckets.models,
        pollIntervalMs: 200,
      });
  const base = o.url ?? server!.url;
  try {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const res = await fetch(`${base}/v1/models/${slot}/versions/1`).catch(() => undefined);
      const body = res?.ok ? ((await res.json()) as { model_version_status?: { state: string }[] }) : undefined;
      if (body?.model_version_status?.[0]?.state === 'AVAILABLE') break;
      if (Date.now() > deadline) throw new Error(`slot ${slot} at ${base} did not make version 1 AVAILABLE`);
      await delay(200);
    }
    const users = Array.from({ length: o.rows }, (_, i) => [(i * 7919) % USERS]);
    const products = Array.from({ length: o.rows }, (_, i) => [(i * 104729) % PRODUCTS]);
    const body = JSON.stringify({ inputs: { users, products } });
    const url = `${base}/v1/models/${slot}/versions/1:predict`;
    const http: number[] = [];
    for (let i = 0; i < o.calls + 3; i++) {
      const t0 = performance.now();
      const res = await fetch(url, { method: 'POST', body });
      const text = await res.text();
      if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${text.slice(0, 200)}`);
      if (i >= 3) http.push(performance.now() - t0);
    }

    // The same batch by gRPC Predict (binary tensors), when the slot runs here.
    const grpcMs: number[] = [];
    if (server?.grpcAddress) {
      const client = new TfServingGrpcClient(server.grpcAddress);
      const tensor = (v: number[][]) => ({
        dtype: 3,
        tensorShape: { dim: [{ size: o.rows }, { size: 1 }] },
        tensorContent: Buffer.from(Int32Array.from(v.map((x) => x[0])).buffer),
      });
      const request = { modelSpec: { name: slot, version: { value: 1 } }, inputs: { users: tensor(users), products: tensor(products) } };
      for (let i = 0; i < o.calls + 3; i++) {
        const t0 = performance.now();
        await client.predict(request);
        if (i >= 3) grpcMs.push(performance.now() - t0);
      }
      client.close();
    }

    // Anchor and phases, in this process on the same SavedModel.
    const model = await tf.node.loadSavedModel(dir, ['serve'], 'serving_default');
    const phases = { parse: [] as number[], run: [] as number[], reply: [] as number[], anchor: [] as number[] };
    const feedsU = Int32Array.from(users.map((u) => u[0]));
    const feedsP = Int32Array.from(products.map((p) => p[0]));
    for (let i = 0; i < o.calls + 3; i++) {
      const t0 = performance.now();
      const batch = parsePredictBody(body, ['users', 'products'], 100_000);
      const t1 = performance.now();
      const scores = scoreColumns(model, batch.columns, batch.size);
      const t2 = performance.now();
      predictResponseBody(batch.format, scores);
      const t3 = performance.now();
      const a = tf.tensor2d(feedsU, [o.rows, 1], 'int32');
      const b = tf.tensor2d(feedsP, [o.rows, 1], 'int32');
      const t4 = performance.now();
      const out = model.predict({ users: a, products: b }) as tf.NamedTensorMap;
      Object.values(out)[0].dataSync();
      const t5 = performance.now();
      tf.dispose([a, b, ...Object.values(out)]);
      if (i >= 3) {
        phases.parse.push(t1 - t0);
        phases.run.push(t2 - t1);
        phases.reply.push(t3 - t2);
        phases.anchor.push(t5 - t4);
      }
    }
    model.dispose();
    const p50 = pct(http, 50);
    const anchor = pct(phases.anchor, 50);
    console.log(`slot ${base} — ${fmt(o.rows)}-row columnar predict, ${o.calls} calls (${(body.length / 1e6).toFixed(2)} MB body)`);
    console.log(
      `  HTTP call:            p50 ${p50.toFixed(1)} ms, p99 ${pct(http, 99).toFixed(1)} ms → ${fmt((o.rows / p50) * 1000)} rows/s`,
    );
    if (grpcMs.length)
      console.log(
        `  gRPC Predict call:    p50 ${pct(grpcMs, 50).toFixed(1)} ms, p99 ${pct(grpcMs, 99).toFixed(1)} ms → ${fmt((o.rows / pct(grpcMs, 50)) * 1000)} rows/s`,
      );
    console.log(`  anchor (session run): p50 ${anchor.toFixed(1)} ms → ${fmt((o.rows / anchor) * 1000)} rows/s`);
    console.log(`  ratio HTTP call / session run: ${(anchor / p50).toFixed(2)}`);
    console.log(
      `  phases of this build in-process (p50): parse JSON ${pct(phases.parse, 50).toFixed(1)} ms, score ${pct(phases.run, 50).toFixed(1)} ms, reply JSON ${pct(phases.reply, 50).toFixed(1)} ms`,
    );
  } finally {
    await server?.close();
    await removeKeys(minio, cfg.buckets.models, await listKeys(minio, cfg.buckets.models, `${slot}/`));
    await fs.rm(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
