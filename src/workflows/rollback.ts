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
  return new Rollback().run(rawInput);
}

/**
 * One rollback run: its steps as methods. Every `patched()` decision is taken
 * here, once: runs recorded before 'rollback-under-deploy-lock' took no lock,
 * checked no input, showed no details and returned outcome "deployed".
 */
class Rollback {
  private readonly underLock = patched('rollback-under-deploy-lock');
  private readonly info = workflowInfo();

  async run(rawInput: RollbackInput): Promise<RetrainAndDeployResult> {
    let input = rawInput;
    if (this.underLock) {
      input = this.checked(rawInput);
      this.details('### Step: **waiting for the deploy lock**');
      await acquireDeployLock({ ttlSeconds: DEPLOY_LEASE_TTL_SECONDS });
    }
    try {
      return await this.rollBack(input);
    } finally {
      if (this.underLock) await CancellationScope.nonCancellable(() => releaseDeployLock());
    }
  }

  private checked(rawInput: RollbackInput): RollbackInput {
    try {
      return parseRollbackInput(rawInput);
    } catch (err) {
      throw ApplicationFailure.nonRetryable((err as Error).message, FailureType.BadInput);
    }
  }

  /** The run's current details in the web UI (not for runs recorded before they existed). */
  private details(markdown: string): void {
    if (this.underLock) setCurrentDetails(markdown);
  }

  private async renewLease(ttlSeconds: number): Promise<void> {
    if (this.underLock) await renewDeployLock({ ttlSeconds });
  }

  private async rollBack(input: RollbackInput): Promise<RetrainAndDeployResult> {
    const state = await getDeploymentState();
    this.stillActive(state, input.onlyIfActive);
    const target = this.target(state, input.version);
    const from = `from version ${state.active!.version} (slot ${state.active!.slot}) to version ${target.version} (slot ${target.slot})`;
    this.details(`### Step: **waiting for slot ${target.slot} to serve version ${target.version}**\n\nRolling back ${from}.`);
    const url = await this.standbyServes(target, input);
    await this.renewLease(DEPLOY_LEASE_TTL_SECONDS);
    await publishModelUrl({
      slot: target.slot,
      version: target.version,
      url,
      // a rollback re-publishes an old version: its own key, so the
      // deduplication of the original publication does not swallow it
      key: `${target.slot}/${target.version}/rollback/${this.info.workflowId}`,
      description: `rollback to version ${target.version} by ${this.info.workflowId}`,
    });
    await commitActiveSlot({ slot: target.slot, version: target.version, url, metrics: target.metrics, kind: 'rollback' });
    return this.done(target, url, `rolled back ${from}${input.evidence ? `: ${input.evidence}` : ''}`);
  }

  /** A policy's rollback is about one version: when another serves by now, the run fails (not retried) and changes nothing. */
  private stillActive(state: DeploymentState, expected: RollbackInput['onlyIfActive']): void {
    if (!expected) return;
    const active = state.active;
    if (active?.slot === expected.slot && active.version === expected.version) return;
    const now = active ? `version ${active.version} (slot ${active.slot})` : 'nothing';
    const why = `version ${expected.version} (slot ${expected.slot}) is no longer active, ${now} is: its evidence is moot`;
    upsertSearchAttributes([{ key: OUTCOME, value: 'failed' }]);
    this.details(`### Done: **failed**\n\ncannot roll back: ${why}`);
    throw ApplicationFailure.nonRetryable(`cannot roll back: ${why}`, FailureType.RollbackImpossible);
  }

  /** The deployment to return to; the run fails (not retried) when there is none. */
  private target(state: DeploymentState, version: number | undefined): Deployment {
    const target = rollbackTarget(state, version);
    if (typeof target === 'string') {
      upsertSearchAttributes([{ key: OUTCOME, value: 'failed' }]);
      this.details(`### Done: **failed**\n\ncannot roll back: ${target}`);
      throw ApplicationFailure.nonRetryable(`cannot roll back: ${target}`, FailureType.RollbackImpossible);
    }
    upsertSearchAttributes([
      { key: MODEL_VERSION, value: target.version },
      { key: SLOT, value: target.slot },
    ]);
    return target;
  }

  /** Waits until the target's slot still serves its version; returns the predict URL. */
  private async standbyServes(target: Deployment, input: RollbackInput): Promise<string> {
    const timeout = input.readinessTimeoutSeconds ?? DEFAULT_READINESS_TIMEOUT_SECONDS;
    await this.renewLease(timeout + 120);
    const { waitForStandbyReady } = proxyActivities<ServingActivities>({
      ...readinessOptions(input.servingTaskQueue ?? DEFAULT_SERVING_TASK_QUEUE, timeout),
      summary: `check that slot ${target.slot} still serves version ${target.version}`,
    });
    const ready = await waitForStandbyReady({ slot: target.slot, version: target.version, deadlineMs: Date.now() + timeout * 1000 });
    return ready.predictUrl;
  }

  private done(target: Deployment, url: string, reason: string): RetrainAndDeployResult {
    upsertSearchAttributes([{ key: OUTCOME, value: 'rolled-back' }]);
    upsertMemo({ outcome: 'rolled-back', reason });
    this.details(`### Done: **rolled-back**\n\n${reason}`);
    // runs recorded before this returned "deployed" (their history says so)
    const outcome = this.underLock ? 'rolled-back' : 'deployed';
    return { outcome, reason, version: target.version, slot: target.slot, url, metrics: target.metrics };
  }
}
