/**
 * Issue "A hostile and faulty world", case 4: a run terminated between
 * publishing its URL and committing the registry leaves the model server
 * serving slot S while the registry still calls S the standby. The next run
 * must reconcile the registry with the models topic before it chooses where
 * to export, so that it never exports into the live slot. Real Temporal,
 * Kafka, MinIO and slots; the real activities, with commitActiveSlot held.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDescriptors } from '../../src/messaging/model-descriptors';
import { readDeploymentState, registryLocation } from '../../src/store/registry';
import type { RetrainAndDeployResult } from '../../src/workflows/types';
import { startTestSystem, type TestSystem } from '../helpers/system';

let sys: TestSystem;
/** while set, commitActiveSlot waits (the run is terminated meanwhile) */
let holdCommit: Promise<void> | undefined;
let releaseCommit = () => undefined as void;

beforeAll(async () => {
  sys = await startTestSystem({
    wrapActivities: (a) => ({
      ...a,
      commitActiveSlot: async (input) => {
        if (holdCommit) await holdCommit;
        return a.commitActiveSlot(input);
      },
    }),
  });
});
afterAll(async () => {
  releaseCommit();
  await sys?.stop();
});

const small = { data: { mode: 'generate', users: 300, products: 60, seed: 11 }, training: { evalUsers: 300 } };

function start(input: object = small) {
  return sys.temporal.workflow.start('retrainAndDeploy', {
    taskQueue: sys.config.temporal.taskQueues.training,
    workflowId: `pwc-${sys.id}-${randomUUID()}`,
    args: [{ servingTaskQueue: sys.config.temporal.taskQueues.serving, readinessTimeoutSeconds: 60, ...input }],
  });
}

describe('publish without commit', () => {
  it('the next run records the served version and exports into the slot that is not serving', async () => {
    const [slotA, slotB] = sys.config.slots.map((s) => s.name);
    const first = (await (await start()).result()) as RetrainAndDeployResult;
    expect(first).toMatchObject({ outcome: 'deployed', slot: slotA });

    // the second run publishes slot B's version, then is terminated before its commit
    holdCommit = new Promise<void>((resolve) => (releaseCommit = resolve));
    const second = await start();
    const end = Date.now() + 120_000;
    let published: string | undefined;
    while (!published) {
      if (Date.now() > end) throw new Error('the second run never published');
      published = (await readDescriptors(sys.kafka, sys.config.topics.models)).map((d) => d.key).find((k) => k.startsWith(`${slotB}/`));
      if (!published) await sleep(300);
    }
    await second.terminate('test: terminated between publish and commit');
    // the held commit stays held until the end: a terminated run's activity must not commit for it
    holdCommit = undefined;
    const servedVersion = Number(published.split('/')[1]);
    const stale = await readDeploymentState(sys.minio, registryLocation(sys.config));
    expect(stale.active).toMatchObject({ slot: slotA, version: first.version }); // the registry still says A serves

    const third = (await (await start()).result()) as RetrainAndDeployResult;
    // B serves (its descriptor is the newest): the new version goes to A, never into the live slot B
    expect(third).toMatchObject({ outcome: 'deployed', slot: slotA });
    const state = await readDeploymentState(sys.minio, registryLocation(sys.config));
    expect(state.history.slice(-2).map((d) => [d.kind, d.slot, d.version])).toEqual([
      ['reconcile', slotB, servedVersion],
      ['deploy', slotA, third.version],
    ]);
    // slot B still serves the version its descriptor named
    const status = await fetch(`${sys.slots[1].url}/v1/models/${slotB}/versions/${servedVersion}`).then((r) => r.json());
    expect(status).toMatchObject({ model_version_status: [{ state: 'AVAILABLE' }] });
  });
});
