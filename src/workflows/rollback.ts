/**
 * rollbackDeployment: serve the previous model again. Blue/green keeps the
 * previous version in the standby slot, so a rollback is "make sure the
 * standby still serves it, publish its URL, record it" — no retraining.
 */
import { ApplicationFailure, proxyActivities, upsertMemo, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { ServingActivities, TrainingActivities } from './activity-interfaces';
import { DEFAULT_READINESS_TIMEOUT_SECONDS, DEFAULT_SERVING_TASK_QUEUE } from './definitions';
import { publishOptions, readinessOptions, registryOptions } from './options';
import { MODEL_VERSION, OUTCOME, SLOT } from './search-attributes';
import type { Deployment, DeploymentState, RetrainAndDeployResult, RollbackInput } from './types';

const { getDeploymentState, commitActiveSlot } = proxyActivities<TrainingActivities>(registryOptions);
const { publishModelUrl } = proxyActivities<TrainingActivities>(publishOptions);

/** The deployment to return to, or a reason why there is none. */
export function rollbackTarget(state: DeploymentState, version?: number): Deployment | string {
  const active = state.active;
  if (!active) return 'nothing is deployed yet';
  const candidates = state.history.filter((d) => d.slot !== active.slot);
  const target =
    version === undefined ? candidates.at(-1) : state.history.filter((d) => d.version === version).at(-1);
  if (!target) return version === undefined ? 'no earlier deployment in the other slot' : `version ${version} was never deployed`;
  if (target.slot === active.slot) {
    return `version ${target.version} lived in the active slot ${active.slot}, which now serves version ${active.version}`;
  }
  // A slot serves its newest version; an older one there is gone.
  const newerInSlot = state.history.some((d) => d.slot === target.slot && d.version > target.version);
  if (newerInSlot) return `slot ${target.slot} has a newer version than ${target.version} since; it can no longer serve it`;
  return target;
}

export async function rollbackDeployment(input: RollbackInput = {}): Promise<RetrainAndDeployResult> {
  const info = workflowInfo();
  const state = await getDeploymentState();
  const target = rollbackTarget(state, input.version);
  if (typeof target === 'string') {
    upsertSearchAttributes([{ key: OUTCOME, value: 'failed' }]);
    throw ApplicationFailure.nonRetryable(`cannot roll back: ${target}`, 'RollbackImpossible');
  }
  upsertSearchAttributes([
    { key: MODEL_VERSION, value: target.version },
    { key: SLOT, value: target.slot },
  ]);
  const timeout = input.readinessTimeoutSeconds ?? DEFAULT_READINESS_TIMEOUT_SECONDS;
  const { waitForStandbyReady } = proxyActivities<ServingActivities>(
    readinessOptions(input.servingTaskQueue ?? DEFAULT_SERVING_TASK_QUEUE, timeout),
  );
  const ready = await waitForStandbyReady({ slot: target.slot, version: target.version, deadlineMs: Date.now() + timeout * 1000 });
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
  const reason = `rolled back from version ${state.active!.version} to ${target.version} in slot ${target.slot}`;
  upsertSearchAttributes([{ key: OUTCOME, value: 'rolled-back' }]);
  upsertMemo({ outcome: 'rolled-back', reason });
  return { outcome: 'deployed', reason, version: target.version, slot: target.slot, url: ready.predictUrl, metrics: target.metrics };
}
