/**
 * The whole retrain-and-deploy path with the real activities: real MinIO,
 * real Kafka, real slots loading the exported SavedModels with TensorFlow,
 * on the real Temporal dev server.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDescriptors } from '../../src/messaging/model-descriptors';
import { readDeploymentState, registryLocation } from '../../src/store/registry';
import { statusQuery } from '../../src/workflows/definitions';
import { getOptionalObject, listKeys } from '../../src/storage/objects';
import type { RetrainAndDeployResult } from '../../src/workflows/types';
import { startTestSystem, type TestSystem } from '../helpers/system';

let sys: TestSystem;
beforeAll(async () => {
  sys = await startTestSystem();
});
afterAll(async () => {
  await sys?.stop();
});

const small = { data: { mode: 'generate', users: 300, products: 60, seed: 7 }, training: { epochs: 4, evalUsers: 300 } };

function start(workflow: 'retrainAndDeploy' | 'rollbackDeployment', input: object) {
  return sys.temporal.workflow.start(workflow, {
    taskQueue: sys.config.temporal.taskQueues.training,
    // a '/' in the id: the deploy lease's holder must still be found in Temporal
    workflowId: `it-${sys.id}/${workflow}/${randomUUID()}`,
    args: [{ servingTaskQueue: sys.config.temporal.taskQueues.serving, readinessTimeoutSeconds: 60, ...input }],
  });
}

async function run(workflow: 'retrainAndDeploy' | 'rollbackDeployment', input: object): Promise<RetrainAndDeployResult> {
  return (await (await start(workflow, input)).result()) as RetrainAndDeployResult;
}

describe('retrainAndDeploy with real activities', () => {
  it('deploys version 1 to the first slot, publishes its URL once and records it', async () => {
    const [slotA] = sys.config.slots;
    const result = await run('retrainAndDeploy', small);
    expect(result).toMatchObject({ outcome: 'deployed', version: expect.any(Number), slot: slotA.name });
    expect(result.url).toBe(`${slotA.baseUrl}/v1/models/${slotA.name}/versions/${result.version}:predict`);
    expect(result.metrics!.hitRate10).toBeGreaterThan(0);

    const descriptors = await readDescriptors(sys.kafka, sys.config.topics.models);
    expect(descriptors.map((d) => [d.key, d.descriptor.url])).toEqual([[`${slotA.name}/${result.version}`, result.url]]);

    const state = await readDeploymentState(sys.minio, registryLocation(sys.config));
    expect(state.active).toMatchObject({ slot: slotA.name, version: result.version, kind: 'deploy' });
    expect((await getOptionalObject(sys.minio, sys.config.buckets.data, `${sys.config.dataPrefix}/directory.txt`))?.toString()).toBe(
      sys.config.slots[1].name,
    );

    const lineage = await listKeys(sys.minio, sys.config.buckets.models, `lineage/${slotA.name}/${result.version}/`);
    expect(lineage.map((k) => k.split('/').slice(3).join('/')).sort()).toEqual(expect.arrayContaining(['metadata.json', 'metrics.json']));
    const served = await fetch(`${slotA.baseUrl}/v1/models/${slotA.name}/versions/${result.version}`).then((r) => r.json());
    expect(served).toMatchObject({ model_version_status: [{ state: 'AVAILABLE' }] });
  });

  it('deploys the next model to the other slot, then rolls back to the first', async () => {
    const [slotA, slotB] = sys.config.slots;
    const before = await readDeploymentState(sys.minio, registryLocation(sys.config));
    const second = await run('retrainAndDeploy', { ...small, data: { mode: 'append-day' } });
    expect(second).toMatchObject({ outcome: 'deployed', slot: slotB.name, version: before.maxVersion + 1 });

    const back = await run('rollbackDeployment', {});
    expect(back).toMatchObject({ outcome: 'rolled-back', slot: slotA.name, version: before.active!.version });
    const state = await readDeploymentState(sys.minio, registryLocation(sys.config));
    expect(state.active).toMatchObject({ slot: slotA.name, version: before.active!.version, kind: 'rollback' });
    const keys = (await readDescriptors(sys.kafka, sys.config.topics.models)).map((d) => d.key);
    expect(keys).toHaveLength(3);
    expect(keys[1]).toBe(`${slotB.name}/${second.version}`);
    expect(keys[2]).toMatch(new RegExp(`^${slotA.name}/${before.active!.version}/rollback/`));
  });

  it('deploys two runs started at the same time one after the other (deploy lock)', async () => {
    const input = { ...small, data: { mode: 'existing' } };
    const [r1, r2] = await Promise.all([run('retrainAndDeploy', input), run('retrainAndDeploy', input)]);
    expect([r1.outcome, r2.outcome]).toEqual(['deployed', 'deployed']);
    const [first, second] = [r1, r2].sort((a, b) => a.version! - b.version!);
    expect(second.version).toBe(first.version! + 1);
    expect(second.slot).not.toBe(first.slot); // the second went to the slot the first was not serving from
    const state = await readDeploymentState(sys.minio, registryLocation(sys.config));
    expect(state.history.slice(-2).map((d) => [d.slot, d.version])).toEqual([
      [first.slot, first.version],
      [second.slot, second.version],
    ]);
  });

  it('a rollback started while a deploy holds the lock waits for it; then the registry and Kafka agree', async () => {
    const deploy = await start('retrainAndDeploy', { ...small, data: { mode: 'existing' } });
    // the deploy holds the lock from the gate to the commit
    for (let i = 0; ; i++) {
      const step = (await deploy.query(statusQuery)).step;
      if (['exporting', 'waiting-for-standby'].includes(step)) break;
      if (step === 'done' || i > 3000) throw new Error(`deploy never reached the locked steps (at ${step})`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const rollback = await start('rollbackDeployment', {});
    // the rollback is refused the lock while the deploy holds it
    let waited = false;
    for (let i = 0; i < 400 && !waited; i++) {
      const pending = (await rollback.describe()).raw.pendingActivities ?? [];
      waited = pending.some(
        (a) => a.activityType?.name === 'acquireDeployLock' && /another deployment is in progress/.test(a.lastFailure?.message ?? ''),
      );
      if (!waited) await new Promise((r) => setTimeout(r, 50));
    }
    expect(waited).toBe(true);
    const deployed = (await deploy.result()) as RetrainAndDeployResult;
    const back = (await rollback.result()) as RetrainAndDeployResult;
    expect(deployed.outcome).toBe('deployed');
    expect(back.outcome).toBe('rolled-back');
    expect(back.slot).not.toBe(deployed.slot);

    const state = await readDeploymentState(sys.minio, registryLocation(sys.config));
    expect(state.history.slice(-2).map((d) => [d.kind, d.slot, d.version])).toEqual([
      ['deploy', deployed.slot, deployed.version],
      ['rollback', back.slot, back.version],
    ]);
    const last = (await readDescriptors(sys.kafka, sys.config.topics.models)).at(-1)!;
    expect(last.descriptor.url).toBe(state.active!.url);
    expect(last.key).toMatch(new RegExp(`^${state.active!.slot}/${state.active!.version}/rollback/`));
    // and the slot behind that URL serves it
    const served = await fetch(
      `${sys.config.slots.find((s) => s.name === state.active!.slot)!.baseUrl}/v1/models/${state.active!.slot}/versions/${state.active!.version}`,
    ).then((r) => r.json());
    expect(served).toMatchObject({ model_version_status: [{ state: 'AVAILABLE' }] });
  });
});
