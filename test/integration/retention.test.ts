/**
 * Retention on the real stack: the activity never removes the active or
 * standby version and skips while a deploy holds the lock; the retention
 * Schedule exists with its summary, and the run it starts removes old
 * versions, lineage beyond N, stale staging and the candidates of ended runs
 * (never a running run's); a bad input ends the run at once, naming the field.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { retentionActivities } from '../../src/activities/retention';
import { triggerSchedule } from '../../src/cli/commands/schedule';
import { createRetentionSchedule, runRetention } from '../../src/cli/commands/retention';
import { listVersions } from '../../src/store';
import { deployLease } from '../../src/store/lease';
import { recordDeployment, registryLocation } from '../../src/store/registry';
import { listKeys } from '../../src/storage/objects';
import { compactHistory } from '../../src/store/history-compaction';
import { historyKeys } from '../../src/store/layout';
import { formatSegmentLine, listSegments, SEGMENT_HEADER, writeSegment } from '../../src/store/segments';
import type { RetentionInput, RetentionReport } from '../../src/workflows/types';
import { removePrefix, tempDir, uploadVersionDir } from '../helpers/minio';
import { startTestSystem, type TestSystem } from '../helpers/system';
import { startWorker } from '../helpers/temporal';

let sys: TestSystem;
let dir: string;
beforeAll(async () => {
  sys = await startTestSystem({ withWorkers: false, slots: false });
  dir = await tempDir('retention-it');
  for (const f of ['variables/variables.data-00000-of-00001', 'variables/variables.index', 'saved_model.pb']) {
    await fs.mkdir(path.dirname(path.join(dir, f)), { recursive: true });
    await fs.writeFile(path.join(dir, f), f);
  }
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
  await sys?.stop();
});

const dep = (slot: string, version: number) => ({
  slot,
  version,
  url: `http://x/${slot}/${version}`,
  metrics: {} as Parameters<typeof recordDeployment>[2]['metrics'],
  kind: 'deploy' as const,
  workflowId: 'w',
  runId: `r${version}`,
  deployedAt: new Date().toISOString(),
});

/** Versions 1, 3, 5 in the first slot and 2, 4, 6 in the second; version 1 deployed in slot a (now standby), 4 active in slot b. */
async function seedSlots(): Promise<[string, string]> {
  const loc = registryLocation(sys.config);
  const [a, b] = loc.slots;
  for (const v of [1, 3, 5]) await uploadVersionDir(sys.minio, loc.modelsBucket, a, v, dir);
  for (const v of [2, 4, 6]) await uploadVersionDir(sys.minio, loc.modelsBucket, b, v, dir);
  await recordDeployment(sys.minio, loc, dep(a, 1));
  await recordDeployment(sys.minio, loc, dep(b, 4));
  return [a, b];
}

describe('applyRetention', () => {
  it('removes old versions but never the active or standby one, and skips while a deploy holds the lock', async () => {
    const loc = registryLocation(sys.config);
    const [a, b] = await seedSlots();
    const { applyRetention } = retentionActivities({ config: sys.config, minio: sys.minio, kafka: sys.kafka });
    const env = new MockActivityEnvironment();
    const lease = deployLease(sys.minio, loc.modelsBucket, loc.registryKey);
    const deploy = { workflowId: 'deploy', runId: 'run' };
    expect(await lease.acquire(deploy, { ttlMs: 60_000, liveness: async () => 'running' })).toMatchObject({
      acquired: true,
    });
    expect(await env.run(applyRetention, { keepVersions: 1, stagingOlderThanHours: 1 })).toEqual({
      skipped: true,
      heldBy: 'deploy (run run)',
    });
    await lease.release(deploy);

    const report = (await env.run(applyRetention, { keepVersions: 1, stagingOlderThanHours: 1 })) as { skipped: boolean };
    expect(report.skipped).toBe(false);
    expect(await listVersions(sys.minio, loc.modelsBucket, a)).toEqual([1, 5]);
    expect(await listVersions(sys.minio, loc.modelsBucket, b)).toEqual([4, 6]);
    for (const slot of [a, b]) await removePrefix(sys.minio, loc.modelsBucket, `${slot}/`);
  });
});

describe('the retention workflow on its own Schedule', () => {
  it('exists with its summary; its triggered run prunes versions, lineage, staging and ended runs’ candidates', async () => {
    const loc = registryLocation(sys.config);
    const bucket = loc.modelsBucket;
    const scheduleId = `it-${sys.id}-retention`;
    const cfg = { ...sys.config, temporal: { ...sys.config.temporal, retentionScheduleId: scheduleId } };
    // a private candidates prefix: the shared bucket's candidates/ belong to everyone's runs
    const candidatesPrefix = `candidates/it-${sys.id}/`;
    const worker = await startWorker(
      cfg.temporal.taskQueues.training,
      retentionActivities({ config: cfg, minio: sys.minio, kafka: sys.kafka, temporal: sys.temporal }, { candidatesPrefix }),
    );
    // a run that is still running (no worker polls its queue): its candidate stays, however old
    const running = await sys.temporal.workflow.start('retrainAndDeploy', {
      taskQueue: `it-${sys.id}-nobody`,
      workflowId: `it-${sys.id}-running/with/slashes`,
      args: [{}],
    });
    try {
      const [a, b] = await seedSlots();
      for (const slot of [a, b]) {
        for (const v of slot === a ? [1, 3, 5] : [2, 4, 6]) {
          await sys.minio.putObject(bucket, `lineage/${slot}/${v}/metadata.json`, Buffer.from('{}'));
          await sys.minio.putObject(bucket, `lineage/${slot}/${v}/tfjs/weights.bin`, Buffer.from('weights'));
        }
      }
      await sys.minio.putObject(bucket, `${a}/_staging-7-0123456789ab/saved_model.pb`, Buffer.from('crashed publish'));
      const runningPrefix = `${candidatesPrefix}${running.workflowId}/${running.firstExecutionRunId}/`;
      const endedPrefix = `${candidatesPrefix}it-${sys.id}-ended/0190aaaa-0000-7000-8000-000000000000/`;
      for (const p of [runningPrefix, endedPrefix]) {
        for (const f of ['model.json', 'weights.bin', 'metrics.json']) await sys.minio.putObject(bucket, p + f, Buffer.from(f));
      }

      // ingested purchases: two segments, both folded into a compacted history; the first may go, the last stays
      const segments = { client: sys.minio, bucket: cfg.buckets.data, dataPrefix: cfg.dataPrefix, topic: cfg.purchases.topic };
      await sys.minio.putObject(segments.bucket, historyKeys(cfg.dataPrefix).transactions, Buffer.from('customerId,products\n1,2\n'));
      for (const first of [0, 1]) {
        const line = formatSegmentLine({ user: 7, products: [3], timeMs: 1_000 + first, offset: BigInt(first), id: `r-${first}` });
        await writeSegment(segments, 0, BigInt(first), BigInt(first), Buffer.from(`${SEGMENT_HEADER}\n${line}`));
      }
      await compactHistory(segments, historyKeys(cfg.dataPrefix).transactions, { reorderWindow: 10 });

      await createRetentionSchedule(sys.temporal, cfg, {
        keepVersions: '1',
        keepLineage: '2',
        candidatesOlderThanHours: '0',
        stagingOlderThanHours: '0',
        segmentsOlderThanHours: '0',
        catchupWindow: '10m',
        paused: true, // only the trigger below runs it
      });
      const handle = sys.temporal.schedule.getHandle(scheduleId);
      const d = await handle.describe();
      expect(d.action.workflowType).toBe('retention');
      expect(d.memo?.summary).toMatch(/^retention every 1d: keep 1 version and 2 lineage records per slot/);
      expect(d.state.note).toBe(d.memo?.summary);
      expect(d.action.staticSummary).toMatch(/started by the Temporal Schedule of retention$/);
      expect(d.policies.overlap).toBe('SKIP');

      const started = await triggerSchedule(sys.temporal, scheduleId);
      expect(started).toBeDefined();
      const run = sys.temporal.workflow.getHandle(started!.workflowId, started!.runId);
      const report = (await run.result()) as RetentionReport;
      expect(await (await run.describe()).staticSummary()).toMatch(/^retention: keep 1 version and 2 lineage records per slot/);

      expect(report).toMatchObject({
        skipped: false,
        slots: [
          { slot: a, keptVersions: [1, 5], removedVersions: [3], removedStaging: [`${a}/_staging-7-0123456789ab/`], removedLineage: [] },
          { slot: b, keptVersions: [4, 6], removedVersions: [2], removedStaging: [], removedLineage: [2] },
        ],
        candidates: { removed: 1, keptInUse: 1, keptYoung: 0, sample: [endedPrefix] },
        segments: { removed: 1, kept: 0 },
      });
      expect((await listSegments(segments, 0)).map((x) => x.first)).toEqual([1n]);
      // never the active (4 in b) or standby (1 in a) version
      expect(await listVersions(sys.minio, bucket, a)).toEqual([1, 5]);
      expect(await listVersions(sys.minio, bucket, b)).toEqual([4, 6]);
      // lineage: the newest 2 and the protected ones
      const lineageOf = async (slot: string) =>
        [...new Set((await listKeys(sys.minio, bucket, `lineage/${slot}/`)).map((k) => Number(k.split('/')[2])))].sort((x, y) => x - y);
      expect(await lineageOf(a)).toEqual([1, 3, 5]);
      expect(await lineageOf(b)).toEqual([4, 6]);
      expect((await listKeys(sys.minio, bucket, `${a}/_staging-`)).length).toBe(0);
      expect((await listKeys(sys.minio, bucket, candidatesPrefix)).every((k) => k.startsWith(runningPrefix))).toBe(true);
      expect((await listKeys(sys.minio, bucket, runningPrefix)).length).toBe(3);

      // bad input: refused at once, the field named, nothing touched
      const refusal = async (input: unknown) => {
        const err = await (
          await runRetention(sys.temporal, cfg, input as RetentionInput)
        ).report.then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(WorkflowFailedError);
        return (err as WorkflowFailedError).cause as { type?: string; message: string };
      };
      expect(await refusal({ keepVersions: 0 })).toMatchObject({
        type: 'BadInputError',
        message: expect.stringMatching(/keepVersions: Too small/),
      });
      expect(await refusal({ keepVersion: 2 })).toMatchObject({
        type: 'BadInputError',
        message: expect.stringMatching(/Unrecognized key: "keepVersion"/),
      });
      expect(await listVersions(sys.minio, bucket, a)).toEqual([1, 5]);
    } finally {
      await running.terminate('test over').catch(() => undefined);
      await deleteSchedule(scheduleId);
      await worker.stop();
    }
  });
});

async function deleteSchedule(scheduleId: string): Promise<void> {
  await sys.temporal.schedule
    .getHandle(scheduleId)
    .delete()
    .catch(() => undefined);
}
