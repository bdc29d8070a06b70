/** Retention of one slot on real MinIO: keeps the newest N and the protected (active/standby) versions, removes the rest and stale staging. */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config';
import { applySlotRetention, listClaimedVersions, listCompleteVersions, listVersions } from '../../src/model-store';
import { createMinioClient } from '../../src/storage/minio-client';
import { removePrefix, tempDir, uploadVersionDir } from '../helpers/minio';

const cfg = loadConfig();
const minio = createMinioClient(cfg.minio);
const bucket = cfg.buckets.models;
const slot = `retention-test-${randomUUID().slice(0, 8)}`;
let work: string;

beforeAll(async () => {
  work = await tempDir('retention-test');
  for (const f of ['variables/variables.data-00000-of-00001', 'variables/variables.index', 'saved_model.pb']) {
    await fs.mkdir(path.dirname(path.join(work, f)), { recursive: true });
    await fs.writeFile(path.join(work, f), `bytes of ${f}`);
  }
});
afterAll(async () => {
  await removePrefix(minio, bucket, `${slot}/`);
  await fs.rm(work, { recursive: true, force: true });
});

describe('applySlotRetention', () => {
  it('removes old versions and stale staging, never the newest N or a protected version', async () => {
    for (const v of [1, 2, 3, 4, 5, 6]) await uploadVersionDir(minio, bucket, slot, v, work);
    await minio.putObject(bucket, `${slot}/_staging-9-abcdef012345/saved_model.pb`, Buffer.from('x'));
    const dry = await applySlotRetention(minio, bucket, { slot, keep: 2, protect: [2], stagingOlderThanMs: 0, dryRun: true });
    expect(dry.removedVersions).toEqual([1, 3, 4]);
    expect(await listCompleteVersions(minio, bucket, slot)).toEqual([1, 2, 3, 4, 5, 6]);

    const report = await applySlotRetention(minio, bucket, { slot, keep: 2, protect: [2], stagingOlderThanMs: 0 });
    expect(report.removedVersions).toEqual([1, 3, 4]);
    expect(report.removedStaging).toEqual([`${slot}/_staging-9-abcdef012345/`]);
    expect(await listVersions(minio, bucket, slot)).toEqual([2, 5, 6]);
    expect(await listCompleteVersions(minio, bucket, slot)).toEqual([2, 5, 6]);
    // claims stay: version numbers are never reused
    expect(await listClaimedVersions(minio, bucket, slot)).toEqual([1, 2, 3, 4, 5, 6]);
  });
});
