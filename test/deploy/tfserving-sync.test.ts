/**
 * Issue 24, item 8: the sync sidecar of the tfserving profile
 * (deploy/tfserving/sync-versions.mjs) fails closed. Run as the process the
 * sidecar runs, against the real local MinIO, with real SavedModels
 * published through the model store: it copies only claimed versions whose
 * bytes match the claim, never an unclaimed or tampered one, removes a
 * version only when the store says it is gone, and leaves every local
 * version alone when MinIO cannot be reached.
 */
import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config';
import { removeVersion } from '../../src/store';
import { exportSavedModel } from '../../src/savedmodel';
import { createMinioClient } from '../../src/storage/minio-client';
import { removePrefix, tempDir, uploadVersionDir } from '../helpers/minio';
import { randomWeights } from '../helpers/network';
import { DEPLOY, REPO, run } from './tools';

const SCRIPT = path.join(DEPLOY, 'tfserving/sync-versions.mjs');
const FILES = ['variables/variables.data-00000-of-00001', 'variables/variables.index', 'saved_model.pb'];
const cfg = loadConfig();
const minio = createMinioClient(cfg.minio);
const bucket = cfg.buckets.models;
const slot = `sync-test-${randomUUID().slice(0, 8)}`;
let work: string;
let exported: string;
let dest: string;

/** One pass of the sidecar, as a process, from the checkout's src/. */
function sync(env: NodeJS.ProcessEnv = {}) {
  return run(process.execPath, ['--import', 'tsx', SCRIPT, slot, dest, '--once'], {
    env: { ...process.env, RECOMMENDER_CODE: 'src', ...env },
  });
}
const local = async (): Promise<string[]> => (await fs.readdir(path.join(dest, slot))).sort();
const sha = async (file: string): Promise<string> =>
  createHash('sha256')
    .update(await fs.readFile(file))
    .digest('hex');

/** A port nothing listens on (bound once, then released). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

beforeAll(async () => {
  work = await tempDir('sync-test');
  exported = path.join(work, 'model');
  dest = path.join(work, 'models');
  await exportSavedModel(randomWeights(40, 20, 8, 6, 1, 'sigmoid'), exported);
  await uploadVersionDir(minio, bucket, slot, 2, exported); // claimed and complete
  await uploadVersionDir(minio, bucket, slot, 4, exported); // claimed and complete, removed later
  // claimed, then one file's bytes replaced: same size, same recorded digest (metadata copied), different bytes
  await uploadVersionDir(minio, bucket, slot, 3, exported);
  const key = `${slot}/3/variables/variables.index`;
  const original = await minio.statObject(bucket, key);
  const forged = Buffer.from(await fs.readFile(path.join(exported, 'variables/variables.index')));
  forged[forged.length - 1] ^= 0xff;
  await minio.putObject(bucket, key, forged, forged.length, { 'X-Amz-Meta-Sha256': original.metaData.sha256 as string });
  // complete files, never claimed
  for (const f of FILES) await minio.fPutObject(bucket, `${slot}/5/${f}`, path.join(exported, f));
}, 180_000);

afterAll(async () => {
  await removePrefix(minio, bucket, `${slot}/`);
  await fs.rm(work, { recursive: true, force: true });
});

describe('tfserving sync sidecar: fails closed', () => {
  it('copies only claimed versions whose bytes match the claim, atomically', async () => {
    const r = sync();
    expect(r.status, r.stderr).toBe(2); // a version failed its checks: reported
    expect(await local()).toEqual(['2', '4']); // not 3 (tampered), not 5 (unclaimed), no temporary directory left
    expect(r.stdout).toMatch(new RegExp(`synced ${slot}/2`));
    expect(r.stderr).toContain(`not synced ${slot}/3: ${bucket}/${slot}/3/variables/variables.index:`);
    for (const f of FILES) expect(await sha(path.join(dest, slot, '2', f)), f).toBe(await sha(path.join(exported, f)));
    // a second pass changes nothing and copies nothing again
    const again = sync();
    expect(again.stdout).not.toMatch(/synced/);
    expect(await local()).toEqual(['2', '4']);
  });

  it('removes a version only once the store says it is gone', async () => {
    await removeVersion(minio, bucket, slot, 4); // a failed readiness check's clean-up (the claim stays)
    const r = sync();
    expect(r.stdout).toMatch(new RegExp(`removed ${slot}/4`));
    expect(await local()).toEqual(['2']);
  });

  it('MinIO unreachable: every local version survives, and the pass reports the failure', async () => {
    // a local version the store never had: left alone too, as nothing can be verified
    await fs.cp(path.join(dest, slot, '2'), path.join(dest, slot, '7'), { recursive: true });
    const before = await local();
    const digests = await Promise.all(FILES.map((f) => sha(path.join(dest, slot, '2', f))));
    const r = sync({ MINIO_ENDPOINT: `http://127.0.0.1:${await closedPort()}` });
    expect(await local()).toEqual(before);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/cannot read http:\/\/127\.0\.0\.1:\d+\/models\/sync-test-[0-9a-f]+\/; local versions left as they are/);
    expect(await Promise.all(FILES.map((f) => sha(path.join(dest, slot, '2', f))))).toEqual(digests);
    // wrong credentials: the store answers, but with an error, not a listing
    const denied = sync({ MINIO_SECRET_KEY: 'not-the-secret' });
    expect(await local()).toEqual(before);
    expect(denied.status).toBe(1);
  });

  it('refuses a bad slot name before touching anything', () => {
    const r = run(process.execPath, ['--import', 'tsx', SCRIPT, '../etc', dest, '--once'], {
      env: { ...process.env, RECOMMENDER_CODE: 'src' },
      cwd: REPO,
    });
    expect(r.status).toBe(64);
    expect(r.stderr).toMatch(/invalid slot name "\.\.\/etc"/);
  });
});
