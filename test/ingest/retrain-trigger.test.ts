/**
 * Retraining on data, on the real Temporal and MinIO: a crossing of the
 * threshold triggers the retrain Schedule exactly once — with two publisher
 * instances checking at once, after a restart right after the trigger, and
 * when the claimant died between its claim and the trigger; a crossing
 * while a run is going waits for it (a trigger then would be skipped and lost);
 * the count starts at the ACTIVE model's history (not a rejected run's newer
 * one), and the run started takes the trigger's reason.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config';
import { checkRetrainTrigger, scheduleBusy, scheduleTrigger, type TriggerMarker } from '../../src/ingest/retrain-trigger';
import { createMinioClient } from '../../src/storage/minio-client';
import { countFrom } from '../../src/ingest/active-history';
import { compactHistory } from '../../src/store/history-compaction';
import { historyKeys, retrainTriggerKey } from '../../src/store/layout';
import { publishLineage } from '../../src/store/lineage';
import { recordDeployment, type RegistryLocation } from '../../src/store/registry';
import { takePendingTrigger } from '../../src/store/trigger-record';
import { formatSegmentLine, SEGMENT_HEADER, writeSegment, type SegmentStore } from '../../src/store/segments';
import { connectClient } from '../../src/temporal/connection';
import { removePrefix } from '../helpers/minio';
import type { ModelMetrics } from '../../src/ml/model-metrics';

const id = randomUUID().slice(0, 8);
const cfg = loadConfig();
const minio = createMinioClient(cfg.minio);
const scheduleId = `retrain-trigger-it-${id}`;
let client: Client;

beforeAll(async () => {
  client = await connectClient(cfg.temporal);
  // a Schedule whose clock never fires during the test; its runs wait on a queue no worker polls
  await client.schedule.create({
    scheduleId,
    spec: { intervals: [{ every: '365d' }] },
    action: { type: 'startWorkflow', workflowType: 'retrainAndDeploy', taskQueue: `trigger-it-${id}`, args: [{}] },
    policies: { overlap: ScheduleOverlapPolicy.SKIP },
  });
});

afterAll(async () => {
  const handle = client.schedule.getHandle(scheduleId);
  for (const action of (await handle.describe()).info.runningActions) {
    await client.workflow
      .getHandle(action.workflow.workflowId)
      .terminate('test over')
      .catch(() => undefined);
  }
  await handle.delete();
  await client.connection.close();
});

async function actionsTaken(): Promise<number> {
  await sleep(1_000); // the schedule records a trigger asynchronously
  const info = (await client.schedule.getHandle(scheduleId).describe()).info;
  return info.numActionsTaken + info.numActionsSkippedOverlap;
}

function storeWith(tag: string): SegmentStore {
  return { client: minio, bucket: cfg.buckets.data, dataPrefix: `trigger-it-${id}-${tag}`, topic: 'purchases' };
}

async function ingest(store: SegmentStore, partition: number, first: bigint, n: number): Promise<void> {
  const lines = Array.from({ length: n }, (_, i) =>
    formatSegmentLine({ user: i, products: [1], timeMs: 1_000 + i, offset: first + BigInt(i), id: `t-${first + BigInt(i)}` }),
  );
  await writeSegment(store, partition, first, first + BigInt(n - 1), Buffer.from(SEGMENT_HEADER + '\n' + lines.join('')));
}

describe('retrain triggered by data', () => {
  it('once per crossing: eight instances at once, then a restart right after the trigger', async () => {
    const store = storeWith('a');
    try {
      const deps = (claimant: string) => ({ store, retrainAfter: 100, trigger: scheduleTrigger(client, scheduleId), claimant });
      await ingest(store, 0, 0n, 60);
      expect((await checkRetrainTrigger(deps('x'))).outcome).toBe('below');
      await ingest(store, 1, 0n, 50); // 110 records since the (absent) history: crossed
      // eight instances checking at once: one claim wins
      const all = await Promise.all(Array.from({ length: 8 }, (_, i) => checkRetrainTrigger(deps(`instance-${i}`))));
      expect(all.filter((c) => c.outcome === 'triggered')).toHaveLength(1);
      // a restarted instance, and more purchases within the same crossing (140 < 2 × 100): no second run
      await ingest(store, 0, 60n, 30);
      expect((await checkRetrainTrigger(deps('x-restarted'))).outcome).toBe('already');
      expect(await actionsTaken()).toBe(1);
    } finally {
      await removePrefix(minio, store.bucket, `${store.dataPrefix}/`);
    }
  });

  it('a claim whose claimant died before triggering is taken over once it is stale', async () => {
    const store = storeWith('b');
    try {
      const before = await actionsTaken();
      await ingest(store, 0, 0n, 10);
      const stale: TriggerMarker = {
        sinceHistory: 'none',
        records: '10',
        claimedAt: new Date(Date.now() - 120_000).toISOString(),
        claimant: 'dead',
      };
      await minio.putObject(store.bucket, retrainTriggerKey(store.dataPrefix, 'none'), Buffer.from(JSON.stringify(stale)));
      const deps = { store, retrainAfter: 5, trigger: scheduleTrigger(client, scheduleId), claimant: 'z', staleMs: 60_000 };
      expect((await checkRetrainTrigger(deps)).outcome).toBe('triggered');
      expect((await checkRetrainTrigger(deps)).outcome).toBe('already');
      expect(await actionsTaken()).toBe(before + 1);
    } finally {
      await removePrefix(minio, store.bucket, `${store.dataPrefix}/`);
    }
  });

  it('a crossing while a run of the schedule is going waits for it, then triggers', async () => {
    const store = storeWith('c');
    const handle = client.schedule.getHandle(scheduleId);
    try {
      await ingest(store, 0, 0n, 20);
      await handle.trigger(ScheduleOverlapPolicy.ALLOW_ALL); // a run that never ends: no worker polls its queue
      await sleep(1_000);
      const running = (await handle.describe()).info.runningActions;
      expect(running.length).toBeGreaterThan(0);
      const deps = {
        store,
        retrainAfter: 5,
        trigger: scheduleTrigger(client, scheduleId),
        busy: scheduleBusy(client, scheduleId),
        claimant: 'w',
      };
      expect((await checkRetrainTrigger(deps)).outcome).toBe('busy');
      for (const a of running) await client.workflow.getHandle(a.workflow.workflowId).terminate('the run ends');
      await sleep(1_000);
      const before = (await handle.describe()).info.numActionsTaken;
      expect((await checkRetrainTrigger(deps)).outcome).toBe('triggered');
      await sleep(1_000);
      expect((await handle.describe()).info.numActionsTaken).toBe(before + 1);
    } finally {
      await removePrefix(minio, store.bucket, `${store.dataPrefix}/`);
    }
  });

  it("counts from the active model's history, once per multiple of the threshold; the run started takes the reason", async () => {
    const store = storeWith('d');
    const loc: RegistryLocation = {
      modelsBucket: cfg.buckets.models,
      registryKey: `trigger-it-${id}/deployments.json`,
      dataBucket: store.bucket,
      dataPrefix: store.dataPrefix,
      slots: [`trig-${id}-a`, `trig-${id}-b`],
    };
    const base = historyKeys(store.dataPrefix).transactions;
    try {
      await minio.putObject(store.bucket, base, Buffer.from('customerId,products\n1,2\n'));
      await ingest(store, 0, 0n, 50);
      const h1 = (await compactHistory(store, base, { reorderWindow: 10 })).manifest;
      // version 1 was trained on h1 and is active
      await publishLineage(minio, {
        bucket: loc.modelsBucket,
        slot: loc.slots[0],
        version: 1,
        metadata: { history: { bucket: store.bucket, key: h1.historyKey } },
        metrics: {},
      });
      const metrics: ModelMetrics = {
        objective: 'linear',
        hitRate10: 0.3,
        ndcg10: 0.2,
        valLoss: 0.1,
        rmse: 0,
        popularityHitRate10: 0.1,
        popularityNdcg10: 0.1,
        evaluatedUsers: 1,
        protocol: 'test',
      };
      await recordDeployment(minio, loc, {
        slot: loc.slots[0],
        version: 1,
        url: 'http://127.0.0.1:1/v1/models/x/versions/1:predict',
        metrics,
        workflowId: 'w',
        runId: 'r',
        deployedAt: new Date().toISOString(),
        kind: 'deploy',
      });
      // a later run compacted 120 more and was rejected: the newest history holds them, the active model does not
      await ingest(store, 0, 50n, 120);
      await compactHistory(store, base, { reorderWindow: 10 });
      const deps = {
        store,
        retrainAfter: 100,
        trigger: scheduleTrigger(client, scheduleId),
        since: () => countFrom(store, { client: minio, loc }),
        claimant: 'v',
      };
      const first = await checkRetrainTrigger(deps);
      expect(first).toMatchObject({ outcome: 'triggered', records: 120n, sinceHistory: h1.inputsDigest });
      expect(first.text).toBe('120 new purchases since version 1');
      const where = { client: minio, bucket: store.bucket, dataPrefix: store.dataPrefix };
      const run = { workflowId: 'data-run', runId: 'r1', scheduledAtMs: Date.now() };
      expect(await takePendingTrigger(where, run)).toBe(first.text);
      expect(await takePendingTrigger(where, run)).toBe(first.text); // its own retry
      expect(await takePendingTrigger(where, { ...run, workflowId: 'clock-run', runId: 'r2' })).toBeUndefined();
      await ingest(store, 0, 170n, 50); // 170 since h1: the same crossing
      expect((await checkRetrainTrigger(deps)).outcome).toBe('already');
      await ingest(store, 0, 220n, 40); // 210: the second crossing
      expect(await checkRetrainTrigger(deps)).toMatchObject({ outcome: 'triggered', text: '210 new purchases since version 1' });
    } finally {
      await removePrefix(minio, store.bucket, `${store.dataPrefix}/`);
      await removePrefix(minio, loc.modelsBucket, `trigger-it-${id}/`);
      for (const slot of loc.slots) await removePrefix(minio, loc.modelsBucket, `lineage/${slot}/`);
    }
  });
});
