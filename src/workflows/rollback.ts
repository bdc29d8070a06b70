/**
 * rollbackDeployment: serve the previous model again. Blue/green keeps the
 * previous version in the standby slot, so a rollback is "make sure the
 * standby still serves it, publish its URL, record it" — no retraining.
 * It holds the same deploy lock as retrainAndDeploy, from reading the
 * registry to recording the switch: a rollback never overlaps a deploy.
 */
import {
  ApplicationFailure,
  CancellationScope,
  patched,
  proxyActivities,
  setCurrentDetails,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { ServingActivities, TrainingActivities } from './activity-interfaces';
import { DEFAULT_READINESS_TIMEOUT_SECONDS, DEFAULT_SERVING_TASK_QUEUE } from './definitions';
import { parseRollbackInput } from './input-schema';
import { DEPLOY_LEASE_TTL_SECONDS, deployLockOptions, publishOptions, readinessOptions, registryOptions } from './options';
import { MODEL_VERSION, OUTCOME, SLOT } from './search-attributes';
import type { Deployment, DeploymentState, RetrainAndDeployResult, RollbackInput } from './types';
import { FailureType } from '../failure-types';

const { getDeploymentState } = proxyActivities<TrainingActivities>({
  ...registryOptions,
  summary: 'read the deployment registry (active, standby, last deployments)',
});
const { commitActiveSlot } = proxyActivities<TrainingActivities>({
  ...registryOptions,
  summary: 'record the rollback as the active deployment',
});
const { renewDeployLock } = proxyActivities<TrainingActivities>({ ...registryOptions, summary: 'renew the deploy lease' });
const { publishModelUrl } = proxyActivities<TrainingActivities>({
  ...publishOptions,
  summary: "publish the rolled-back version's URL on Kafka",
});
const { acquireDeployLock } = proxyActivities<TrainingActivities>(deployLockOptions);
const { releaseDeployLock } = proxyActivities<TrainingActivities>({ ...deployLockOptions, summary: 'release the deploy lock' });

/** The deployment to return to, or a reason why there is none (`state.history` holds the last few deployments). */
export function rollbackTarget(state: DeploymentState, version?: number): Deployment | string {
  const active = state.active;
  if (!active) return 'nothing is deployed yet';
  const candidates = state.history.filter((d) => d.slot !== active.slot);
  const target = version === undefined ? candidates.at(-1) : state.history.filter((d) => d.version === version).at(-1);
  if (!target) {
    if (version === undefined) return 'no earlier deployment in the other slot';
    return `version ${version} is not among the last ${state.history.length} deployments`;
  }
  if (target.slot === active.slot) {
    return `version ${target.version} lived in the active slot ${active.slot}, which now serves version ${active.version}`;
  }
  // A slot serves its newest version; an older one there is gone.
  const newerInSlot = state.history.some((d) => d.slot === target.slot && d.version > target.version);
  if (newerInSlot) return `slot ${target.slot} has a newer version than ${target.version} since; it can no longer serve it`;
  return target;
}

export async function rollbackDeployment(rawInput: RollbackInput = {}): Promise<RetrainAndDeployResult> {
  const v2 = patched('rollback-under-deploy-lock');
  let input = rawInput;
  if (v2) {
    try {
      input = parseRollbackInput(rawInput);
    } catch (err) {
      throw ApplicationFailure.nonRetryable((err as Error).message, FailureType.BadInput);
    }
    setCurrentDetails('### Step: **waiting for the deploy lock**');
    await acquireDeployLock({ ttlSeconds: DEPLOY_LEASE_TTL_SECONDS });
  }
  try {
    return await rollBack(input, v2);
  } finally {
    if (v2) await CancellationScope.nonCancellable(() => releaseDeployLock());
  }
}

async function rollBack(input: RollbackInput, v2: boolean): Promise<RetrainAndDeployResult> {
  const info = workflowInfo();
  const state = await getDeploymentState();
  const target = rollbackTarget(state, input.version);
  if (typeof target === 'string') {
    upsertSearchAttributes([{ key: OUTCOME, value: 'failed' }]);
    if (v2) setCurrentDetails(`### Done: **failed**\n\ncannot roll back: ${target}`);
    throw ApplicationFailure.nonRetryable(`cannot roll back: ${target}`, 'RollbackImpossible');
  }
  upsertSearchAttributes([
    { key: MODEL_VERSION, value: target.version },
    { key: SLOT, value: target.slot },
  ]);
  const from = `from version ${state.active!.version} (slot ${state.active!.slot}) to version ${target.version} (slot ${target.slot})`;
  if (v2) setCurrentDetails(`### Step: **waiting for slot ${target.slot} to serve version ${target.version}**\n\nRolling back ${from}.`);
  const timeout = input.readinessTimeoutSeconds ?? DEFAULT_READINESS_TIMEOUT_SECONDS;
  if (v2) await renewDeployLock({ ttlSeconds: timeout + 120 });
  const { waitForStandbyReady } = proxyActivities<ServingActivities>({
    ...readinessOptions(input.servingTaskQueue ?? DEFAULT_SERVING_TASK_QUEUE, timeout),
    summary: `check that slot ${target.slot} still serves version ${target.version}`,
  });
  const ready = await waitForStandbyReady({ slot: target.slot, version: target.version, deadlineMs: Date.now() + timeout * 1000 });
  if (v2) await renewDeployLock({ ttlSeconds: DEPLOY_LEASE_TTL_SECONDS });
  await publishModelUrl({
    slot: target.slot,
    version: target.version,
    url: ready.predictUrl,
    // a rollback re-publishes an old version: its own key, so the
    // deduplication of the original publication does not swallow it
    key: `${target.slot}/${target.version}/rollback/${info.workflowId}`,
    description: `rollback to version ${target.version} by ${info.workflowId}`,
  });
  await commitActiveSlot({ slot: target.slot, version: target.version, url: ready.predictUrl, metrics: target.metrics, kind: 'rollback' });
  const reason = `rolled back ${from}`;
  upsertSearchAttributes([{ key: OUTCOME, value: 'rolled-back' }]);
  upsertMemo({ outcome: 'rolled-back', reason });
  if (v2) setCurrentDetails(`### Done: **rolled-back**\n\n${reason}`);
  // runs recorded before this returned "deployed" (their history says so)
  return {
    outcome: v2 ? 'rolled-back' : 'deployed',
    reason,
    version: target.version,
    slot: target.slot,
    url: ready.predictUrl,
    metrics: target.metrics,
  };
}
