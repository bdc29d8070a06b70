/**
 * Export benchmark: the SavedModel of a 1,000,000-user recommender (a 200 MB
 * user embedding) written to local disk, optionally then published to MinIO.
 *
 *   tsx bench/export.ts [--users N] [--runs N] [--publish] [--endpoint URL] [--bucket B]
 *                       [--access-key K] [--secret-key S]
 *
 * Weights are random (export speed does not depend on their values). The
 * MinIO defaults are the local stack's; --publish uploads into a throw-away
 * slot and deletes it afterwards.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { Client } from 'minio';
import type { NetworkWeights } from '../src/ml/network/network-weights';
import { exportSavedModel } from '../src/savedmodel/export';
import { publishSavedModel } from '../src/store';
import { listObjects, removeKeys } from '../src/storage/objects';

const { values: args } = parseArgs({
  options: {
    users: { type: 'string', default: '1000000' },
    products: { type: 'string', default: '300' },
    dim: { type: 'string', default: '50' },
    runs: { type: 'string', default: '3' },
    publish: { type: 'boolean', default: false },
    endpoint: { type: 'string', default: 'http://127.0.0.1:9000' },
    bucket: { type: 'string', default: 'models' },
    'access-key': { type: 'string', default: 'minio' },
    'secret-key': { type: 'string', default: 'minio123' },
  },
});

function randomWeights(users: number, products: number, dim: number, hidden = 50): NetworkWeights {
  let state = 12345;
  const fill = (n: number): Float32Array => {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      a[i] = state / 2 ** 32 - 0.5;
    }
    return a;
  };
  return {
    userEmbedding: { rows: users, dim, values: fill(users * dim) },
    productEmbedding: { rows: products, dim, values: fill(products * dim) },
    hidden: { inputs: 2 * dim, units: hidden, kernel: fill(2 * dim * hidden), bias: fill(hidden) },
    output: { inputs: hidden, units: 1, kernel: fill(hidden), bias: fill(1) },
    outputActivation: 'sigmoid',
  };
}

const mb = (bytes: number): string => (bytes / 1e6).toFixed(1);
const seconds = (ms: number): string => (ms / 1000).toFixed(2);

async function main(): Promise<void> {
  const users = Number(args.users);
  const weights = randomWeights(users, Number(args.products), Number(args.dim));
  const work = await mkdtemp(path.join(tmpdir(), 'bench-export-'));
  try {
    console.log(`model: ${users.toLocaleString('en')} users × ${args.dim} dims, ${args.products} products`);
    const times: number[] = [];
    let last = { dir: '', bytes: 0, manifest: undefined as Awaited<ReturnType<typeof exportSavedModel>> | undefined };
    for (let run = 1; run <= Number(args.runs); run++) {
      const dir = path.join(work, `run-${run}`);
      const start = performance.now();
      const manifest = await exportSavedModel(weights, dir);
      const ms = performance.now() - start;
      times.push(ms);
      console.log(
        `export run ${run}: ${seconds(ms)} s, ${mb(manifest.totalBytes)} MB, ${(manifest.totalBytes / 1e6 / (ms / 1000)).toFixed(0)} MB/s`,
      );
      if (last.dir) await rm(last.dir, { recursive: true, force: true });
      last = { dir, bytes: manifest.totalBytes, manifest };
    }
    const best = Math.min(...times);
    const median = [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)];
    console.log(
      `export: best ${seconds(best)} s, median ${seconds(median)} s (${(last.bytes / 1e6 / (median / 1000)).toFixed(0)} MB/s, local disk, incl. SHA-256 and CRC32C)`,
    );

    if (args.publish && last.manifest) {
      const url = new URL(args.endpoint);
      const client = new Client({
        endPoint: url.hostname,
        port: Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
        useSSL: url.protocol === 'https:',
        accessKey: args['access-key'],
        secretKey: args['secret-key'],
      });
      const slot = `bench-${Date.now().toString(36)}`;
      try {
        const start = performance.now();
        const result = await publishSavedModel(client, { bucket: args.bucket, slot, dir: last.dir, manifest: last.manifest });
        const ms = performance.now() - start;
        console.log(
          `publish to ${args.endpoint}/${args.bucket}/${result.prefix}: ${seconds(ms)} s (${(last.bytes / 1e6 / (ms / 1000)).toFixed(0)} MB/s: stage, verify, copy, clean up)`,
        );
      } finally {
        await removeKeys(
          client,
          args.bucket,
          (await listObjects(client, args.bucket, `${slot}/`)).map((o) => o.key),
        );
      }
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
