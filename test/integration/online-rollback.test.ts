/**
 * The online rollback policy on the real stack: two real deployments, then
 * the evaluator's checkpoint in MinIO says the active version loses to the
 * previous model's shadow on the same purchases; the policy starts the
 * rollback once (a second check, as from a restart or a second evaluator,
 * starts nothing), the rollback's outcome carries the evidence, and a
 * policy rollback for a version that is no longer active changes nothing.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkOnlineRollback, onlineRollbackId, rollbackEvidence } from '../../src/evaluation/online-rollback';
import { onlineStoreFor } from '../../src/store/online-figures';
import { versionFigures, writeOnlineFigures } from '../helpers/online-figures';
import { readDeploymentState, registryLocation } from '../../src/store/registry';
import { rollbackDeployment } from '../../src/workflows';
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

async function deploy(input: object): Promise<RetrainAndDeployResult> {
  const handle = await sys.temporal.workflow.start('retrainAndDeploy', {
    taskQueue: sys.config.temporal.taskQueues.training,
    workflowId: `it-${sys.id}-deploy-${randomUUID()}`,
    args: [{ servingTaskQueue: sys.config.temporal.taskQueues.serving, readinessTimeoutSeconds: 60, ...input }],
  });
  return (await handle.result()) as RetrainAndDeployResult;
}

describe('online rollback policy (real Temporal, MinIO, slots)', () => {
  it('rolls a version that loses online back once, with the evidence in its outcome', async () => {
    const config = { ...sys.config, onlineRollback: { minPairs: 300, checkMs: 1000 } };
    const first = await deploy(small);
    const second = await deploy({ ...small, data: { mode: 'append-day' } });
    expect([first.outcome, second.outcome]).toEqual(['deployed', 'deployed']);
    const losing = versionFigures(second.slot!, second.version!, 400, 80, 140);
    await writeOnlineFigures(sys.minio, config, losing);
    const store = onlineStoreFor(sys.minio, config);

    const deps = { config, minio: sys.minio, temporal: sys.temporal, store, log: () => undefined };
    const started = await checkOnlineRollback(deps);
    expect(started).toBe(onlineRollbackId(second.slot!, second.version!));
    // once per version: a second check (a restart, a second evaluator) starts nothing
    expect(await checkOnlineRollback(deps)).toBeUndefined();
    const result = (await sys.temporal.workflow.getHandle(started!).result()) as RetrainAndDeployResult;
    expect(result).toMatchObject({ outcome: 'rolled-back', slot: first.slot, version: first.version });
    expect(result.reason).toContain(rollbackEvidence(losing[`${second.slot}/${second.version}`], 300)!);
    expect(result.reason).toMatch(/online HR@10 20\.0 % vs the previous model's 35\.0 % on the same 400 followed purchases/);
    const desc = await sys.temporal.workflow.getHandle(started!).describe();
    expect(await desc.staticSummary()).toMatch(/^rollback to the previous deployment on online evidence: version/);
    const active = (await readDeploymentState(sys.minio, registryLocation(sys.config))).active;
    expect(active).toMatchObject({ slot: first.slot, version: first.version, kind: 'rollback' });
  });

  it('a policy rollback for a version no longer active fails without changing anything', async () => {
    const before = (await readDeploymentState(sys.minio, registryLocation(sys.config))).active!;
    const handle = await sys.temporal.workflow.start(rollbackDeployment, {
      taskQueue: sys.config.temporal.taskQueues.training,
      workflowId: `it-${sys.id}-moot-${randomUUID()}`,
      args: [{ servingTaskQueue: sys.config.temporal.taskQueues.serving, evidence: 'test', onlyIfActive: { slot: 'nope', version: 99 } }],
    });
    await expect(handle.result()).rejects.toThrow();
    const desc = await handle.describe();
    expect(desc.status.name).toBe('FAILED');
    const after = (await readDeploymentState(sys.minio, registryLocation(sys.config))).active!;
    expect(after).toMatchObject({ slot: before.slot, version: before.version });
  });
});
