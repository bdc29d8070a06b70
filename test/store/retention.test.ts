/**
 * Retention on real MinIO: of one slot, keeps the newest N present and the
 * protected (active/standby) versions, removes the rest, stale staging and
 * lineage beyond N; candidates older than the cut-off go unless their run
 * may still use them.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config';
import {
  applySlotRetention,
  listClaimedVersions,
  listCompleteVersions,
  listVersions,
  removeOldCandidates,
  removeVersion,
} from '../../src/store';
import { createMinioClient } from '../../src/storage/minio-client';
import { listKeys } from '../../src/storage/objects';
import { removePrefix, tempDir, uploadVersionDir } from '../helpers/minio';

const cfg = loadConfig();
const minio = createMinioClient(cfg.minio);
const bucket = cfg.buckets.models;
const id = randomUUID().slice(0, 8);
const slot = `retention-test-${id}`;
const lineageRoot = `retention-lineage-${id}`;
const candidates = `retention-candidates-${id}/`;
const DAY = 86_400_000;
let work: string;

const put = (key: string, body = 'x') => minio.putObject(bucket, key, Buffer.from(body));
const dirs = async (prefix: string) =>
  [...new Set((await listKeys(minio, bucket, prefix)).map((k) => k.slice(prefix.length).split('/')[0]))].sort();

beforeAll(async () => {
  work = await tempDir('retention-test');
  for (const f of ['variables/variables.data-00000-of-00001', 'variables/variables.index', 'saved_model.pb']) {
    await fs.mkdir(path.dirname(path.join(work, f)), { recursive: true });
    await fs.writeFile(path.join(work, f), `bytes of ${f}`);
  }
});
afterAll(async () => {
  await removePrefix(minio, bucket, `${slot}/`);
  await removePrefix(minio, bucket, `${lineageRoot}/`);
  await removePrefix(minio, bucket, candidates);
  await fs.rm(work, { recursive: true, force: true });
});

describe('applySlotRetention', () => {
  it('removes old versions, stale staging and lineage beyond N, never the newest N or a protected version', async () => {
    for (const v of [1, 2, 3, 4, 5, 6, 7]) await uploadVersionDir(minio, bucket, slot, v, work);
    // a failed run's version: removed, its claim stays; it does not count among the newest N
    await removeVersion(minio, bucket, slot, 7);
    for (const v of [1, 2, 3, 4, 5, 6]) {
      await put(`${lineageRoot}/${slot}/${v}/tfjs/weights.bin`, 'weights');
      await put(`${lineageRoot}/${slot}/${v}/metadata.json`, '{}');
    }
    await put(`${slot}/_staging-9-abcdef012345/saved_model.pb`);
    const options = {
      slot,
      keep: 2,
      protect: [2],
      stagingOlderThanMs: 0,
      lineage: { prefix: lineageRoot, keep: 3 },
      now: Date.now() + 5000,
    };

    const dry = await applySlotRetention(minio, bucket, { ...options, dryRun: true });
    expect(dry).toMatchObject({
      keptVersions: [2, 5, 6],
      removedVersions: [1, 3, 4],
      removedStaging: [`${slot}/_staging-9-abcdef012345/`],
      removedLineage: [1, 3],
    });
    expect(dry.removedBytes).toBeGreaterThan(0);
    // a dry run removes nothing
    expect(await listCompleteVersions(minio, bucket, slot)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(await dirs(`${slot}/`)).toContain('_staging-9-abcdef012345');
    expect(await dirs(`${lineageRoot}/${slot}/`)).toEqual(['1', '2', '3', '4', '5', '6']);

    const report = await applySlotRetention(minio, bucket, options);
    expect(report).toEqual({ ...dry });
    expect(await listVersions(minio, bucket, slot)).toEqual([2, 5, 6]);
    expect(await listCompleteVersions(minio, bucket, slot)).toEqual([2, 5, 6]);
    expect(await dirs(`${slot}/`)).not.toContain('_staging-9-abcdef012345');
    expect(await dirs(`${lineageRoot}/${slot}/`)).toEqual(['2', '4', '5', '6']);
    // claims stay: version numbers are never reused
    expect(await listClaimedVersions(minio, bucket, slot)).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('leaves young staging and an unclaimed directory newer than every claim (a publish in progress) alone', async () => {
    await put(`${slot}/_staging-10-0123456789ab/saved_model.pb`);
    await put(`${slot}/8/variables/variables.index`);
    const report = await applySlotRetention(minio, bucket, { slot, keep: 1, protect: [], stagingOlderThanMs: DAY });
    expect(report.removedStaging).toEqual([]);
    expect(report.removedVersions).toEqual([2, 5]);
    expect(await listVersions(minio, bucket, slot)).toEqual([6, 8]);
  });

  it('refuses a keep that is not a positive integer', async () => {
    await expect(applySlotRetention(minio, bucket, { slot, keep: 0, protect: [], stagingOlderThanMs: 0 })).rejects.toThrow(
      /keep must be a positive integer, got 0/,
    );
  });
});

describe('removeOldCandidates', () => {
  it('removes candidates older than the cut-off unless their run may still use them', async () => {
    const files = ['model.json', 'weights.bin', 'metadata.json'];
    for (const f of files) {
      await put(`${candidates}done-run/r1/${f}`);
      await put(`${candidates}still/running/r2/${f}`); // a workflow id with '/'
      await put(`${candidates}unknown/r3/${f}`);
    }
    await put(`${candidates}stray.txt`);
    const asked: string[] = [];
    const inUse = async (run: { workflowId: string; runId: string }) => {
      asked.push(`${run.workflowId} | ${run.runId}`);
      return run.workflowId !== 'done-run'; // 'unknown' stands for "Temporal could not say": kept
    };

    // all of them younger than a day
    expect(await removeOldCandidates(minio, bucket, { prefix: candidates, olderThanMs: DAY, inUse })).toEqual({
      removed: 0,
      removedBytes: 0,
      keptInUse: 0,
      keptYoung: 4,
      sample: [],
    });
    expect(asked).toEqual([]);

    // a day and a bit later
    const later = { prefix: candidates, olderThanMs: DAY, inUse, now: Date.now() + DAY + 60_000 };
    const dry = await removeOldCandidates(minio, bucket, { ...later, dryRun: true });
    expect(dry).toMatchObject({ removed: 2, keptInUse: 2, keptYoung: 0, sample: [candidates, `${candidates}done-run/r1/`] });
    expect((await listKeys(minio, bucket, candidates)).length).toBe(10);
    expect(asked.sort()).toEqual(['done-run | r1', 'still/running | r2', 'unknown | r3']);

    expect(await removeOldCandidates(minio, bucket, later)).toEqual(dry);
    expect((await listKeys(minio, bucket, candidates)).sort()).toEqual(
      [...files.map((f) => `${candidates}still/running/r2/${f}`), ...files.map((f) => `${candidates}unknown/r3/${f}`)].sort(),
    );
  });
});
