/**
 * Issue 24, item 3: a slot heals after faults. Real MinIO, real slot servers,
 * real SavedModels loaded by TensorFlow.
 *  - a version whose load failed (here: the download directory unusable, as
 *    with a full disk at start) is loaded again after a back-off;
 *  - a version removed from the store (a failed or cancelled deploy) is
 *    unloaded and the older complete version is served again, so that a
 *    rollback's readiness check for it passes;
 *  - (item 12) a cache directory named with this process's pid but not made
 *    by it (an earlier container's, where every slot is PID 1) is removed.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config';
import { removeVersion } from '../../src/store';
import { exportSavedModel } from '../../src/savedmodel';
import { waitUntilServing } from '../../src/serving/readiness';
import { startSlotServer, type SlotServer } from '../../src/serving/slot/server';
import { createMinioClient } from '../../src/storage/minio-client';
import { removePrefix, tempDir, uploadVersionDir } from '../helpers/minio';
import { randomWeights } from '../helpers/network';

const cfg = loadConfig();
const minio = createMinioClient(cfg.minio);
const bucket = cfg.buckets.models;
const slots: string[] = [];
const servers: SlotServer[] = [];
let work: string;

beforeAll(async () => {
  work = await tempDir('slot-heals');
  for (const v of [1, 2]) await exportSavedModel(randomWeights(40, 20, 8, 6, v, 'sigmoid'), path.join(work, `v${v}`));
});
afterAll(async () => {
  for (const s of servers) await s.close().catch(() => undefined);
  for (const slot of slots) await removePrefix(minio, bucket, `${slot}/`);
  await fs.rm(work, { recursive: true, force: true });
});

async function slotServer(cacheDir?: string): Promise<{ slot: string; server: SlotServer }> {
  const slot = `heal-${randomUUID().slice(0, 8)}`;
  slots.push(slot);
  const server = await startSlotServer({
    name: slot,
    host: '127.0.0.1',
    port: 0,
    client: minio,
    bucket,
    pollIntervalMs: 100,
    loadRetry: { initialMs: 200, maxMs: 200 },
    cacheDir,
  });
  servers.push(server);
  return { slot, server };
}

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('a slot heals after faults', () => {
  it('loads again, after a back-off, a version whose load failed', async () => {
    // the cache directory cannot be created: a regular file stands where its parent should be
    const blocker = path.join(work, 'blocker');
    await fs.writeFile(blocker, 'not a directory');
    const { slot, server } = await slotServer(path.join(blocker, 'cache'));
    await uploadVersionDir(minio, bucket, slot, 1, path.join(work, 'v1'));
    await until('the load to fail', () => server.manager.status(1)?.errorMessage.startsWith('Failed to load version 1') === true);
    // the fault goes away (space freed): the next attempt loads it
    await fs.rm(blocker);
    await until('version 1 AVAILABLE', () => server.manager.status(1)?.state === 'AVAILABLE');
    const res = await fetch(`${server.url}/v1/models/${slot}/versions/1:predict`, {
      method: 'POST',
      body: JSON.stringify({ instances: [{ users: [1], products: [2] }] }),
    });
    expect(res.status).toBe(200);
    await fs.rm(path.join(work, 'blocker'), { recursive: true, force: true });
  });

  it('unloads a version removed from the store and serves the older complete one again (rollback works)', async () => {
    const { slot, server } = await slotServer();
    const ready = (version: number) =>
      waitUntilServing({ baseUrl: server.url, slot, version, deadlineMs: Date.now() + 30_000, initialDelayMs: 50, maxDelayMs: 200 });
    await uploadVersionDir(minio, bucket, slot, 1, path.join(work, 'v1'));
    await ready(1);
    await uploadVersionDir(minio, bucket, slot, 2, path.join(work, 'v2'));
    await ready(2);
    await until('version 1 unloaded', () => server.manager.status(1)?.state === 'END');
    // a cancelled deploy removes version 2 after the slot loaded it
    await removeVersion(minio, bucket, slot, 2);
    await until('version 1 served again', () => server.manager.status(1)?.state === 'AVAILABLE');
    await until('version 2 unloaded', () => server.manager.status(2)?.state === 'END');
    expect(server.manager.servable(2)).toBeUndefined();
    // what a rollback to version 1 checks
    expect((await ready(1)).smokePrediction).toBeGreaterThan(0);
    // and with no complete version left, the slot serves none (after a few polls agree)
    await removeVersion(minio, bucket, slot, 1);
    await until('version 1 unloaded', () => server.manager.status(1)?.state === 'END');
    expect(server.manager.servable()).toBeUndefined();
  });

  it("removes an earlier process's cache directory that carries this process's pid (PID 1 in containers)", async () => {
    const slot = `heal-${randomUUID().slice(0, 8)}`;
    const stale = path.join(os.tmpdir(), 'recommender-slots', slot, `${process.pid}-earlier-container`);
    await fs.mkdir(path.join(stale, '3'), { recursive: true });
    await fs.writeFile(path.join(stale, '3', 'saved_model.pb'), 'left behind');
    slots.push(slot);
    const server = await startSlotServer({ name: slot, host: '127.0.0.1', port: 0, client: minio, bucket, pollIntervalMs: 100 });
    servers.push(server);
    await uploadVersionDir(minio, bucket, slot, 1, path.join(work, 'v1'));
    await until('version 1 AVAILABLE', () => server.manager.status(1)?.state === 'AVAILABLE');
    await until('the stale directory removed', () =>
      fs.stat(stale).then(
        () => false,
        () => true,
      ),
    );
    // its own directory, same pid, is kept: it serves version 1
    const left = await fs.readdir(path.join(os.tmpdir(), 'recommender-slots', slot));
    expect(left).toHaveLength(1);
    expect(left[0].startsWith(`${process.pid}-`)).toBe(true);
  });
});
