/**
 * Retraining on data, on the real Temporal and MinIO: a crossing of the
 * threshold triggers the retrain Schedule exactly once — with two publisher
 * instances checking at once, after a restart right after the trigger, and
 * when the claimant died between its claim and the trigger; a crossing
 * while a run is going waits for it (a trigger then would be skipped and lost).
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config';
import { checkRetrainTrigger, scheduleBusy, scheduleTrigger, type TriggerMarker } from '../../src/ingest/retrain-trigger';
import { createMinioClient } from '../../src/storage/minio-client';
import { retrainTriggerKey } from '../../src/store/layout';
import { formatSegmentLine, SEGMENT_HEADER, writeSegment, type SegmentStore } from '../../src/store/segments';
import { connectClient } from '../../src/temporal/connection';
import { removePrefix } from '../helpers/minio';

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
      // a restarted instance, and more purchases past the same history: no second run
      await ingest(store, 0, 60n, 200);
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
});
