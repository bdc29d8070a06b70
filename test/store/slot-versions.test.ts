/**
 * Issue 12: a slot loads only complete, claimed, digest-checked versions
 * from the model store; odd version names (17 digits, leading zero) and
 * unclaimed or tampered versions are ignored and never block newer ones.
 * Real MinIO, a real slot, real SavedModels loaded by TensorFlow.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config';
import { latestCompleteVersion, listCompleteVersions } from '../../src/store';
import { exportSavedModel } from '../../src/savedmodel';
import { startSlotServer, type SlotServer } from '../../src/serving/slot/server';
import { createMinioClient } from '../../src/storage/minio-client';
import { removePrefix, tempDir, uploadVersionDir } from '../helpers/minio';
import { randomWeights } from '../helpers/network';

const cfg = loadConfig();
const minio = createMinioClient(cfg.minio);
const bucket = cfg.buckets.models;
const slot = `store-test-${randomUUID().slice(0, 8)}`;
const files = ['variables/variables.data-00000-of-00001', 'variables/variables.index', 'saved_model.pb'];
let server: SlotServer;
let work: string;

async function rawUpload(version: string, dir: string): Promise<void> {
  for (const f of files) await minio.fPutObject(bucket, `${slot}/${version}/${f}`, path.join(dir, f));
}

async function available(): Promise<string[]> {
  const res = await fetch(`${server.url}/v1/models/${slot}`);
  if (res.status !== 200) return [];
  const body = (await res.json()) as { model_version_status: { version: string; state: string }[] };
  return body.model_version_status.filter((s) => s.state === 'AVAILABLE').map((s) => s.version);
}

async function until(check: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  work = await tempDir('store-test');
  await exportSavedModel(randomWeights(40, 20, 8, 6, 1, 'sigmoid'), path.join(work, 'm'));
  server = await startSlotServer({
    name: slot,
    host: '127.0.0.1',
    port: 0,
    client: minio,
    bucket,
    pollIntervalMs: 200,
    maxBatch: 100,
    bodyLimit: 64 * 1024,
  });
});

afterAll(async () => {
  await server?.close();
  await removePrefix(minio, bucket, `${slot}/`);
  await fs.rm(work, { recursive: true, force: true });
});

describe('slot versions through the model store', () => {
  it('ignores odd names and unclaimed versions, loads a claimed one, and a tampered newer one never replaces it', async () => {
    const dir = path.join(work, 'm');
    await rawUpload('12345678901234567', dir); // 17 digits: not a version
    await rawUpload('07', dir); // leading zero: not a version
    await rawUpload('5', dir); // complete files, but never claimed
    await uploadVersionDir(minio, bucket, slot, 2, dir);
    await until(async () => (await available()).includes('2'));
    expect(await listCompleteVersions(minio, bucket, slot)).toEqual([2]);

    // claimed and published, then one file altered: its digest no longer matches the claim
    await uploadVersionDir(minio, bucket, slot, 3, dir);
    expect(await latestCompleteVersion(minio, bucket, slot)).toBe(3);
    await minio.putObject(bucket, `${slot}/3/variables/variables.index`, Buffer.from('tampered'));
    expect(await latestCompleteVersion(minio, bucket, slot)).toBe(2);

    // a newer claimed version is still picked up: the odd names never block it
    await uploadVersionDir(minio, bucket, slot, 4, dir);
    await until(async () => (await available()).includes('4'));
    expect(await listCompleteVersions(minio, bucket, slot)).toEqual([2, 4]);
  });
});
