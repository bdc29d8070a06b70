/** Registry activities: read the deployment state, record a deployment, the deploy lease, remove a version. */
import { FailureType } from '../failure-types';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { WorkflowNotFoundError } from '@temporalio/client';
import { isOwnRecord, publisherOf, readDescriptors } from '../messaging/model-descriptors';
import { describeHolder, type Holder, type Liveness } from '../store/lease';
import { onlineStoreFor, recordReplacedOnlineFigures } from '../store/online-figures';
import { recordDeployment, registryLocation, type RegistryLocation } from '../store/registry';
import { removeVersion } from '../store';
import type { DeploymentState, ModelMetrics } from '../workflows/types';
import { leaseOf, type ActivityDeps } from './deps';
import { reconciledDeploymentState } from './reconcile';

/** The calling activity's workflow run. */
export function callingRun(): Holder {
  const wf = Context.current().info.workflowExecution;
  return { workflowId: wf?.workflowId ?? 'unknown', runId: wf?.runId ?? 'unknown' };
}

/** Asks Temporal whether a lease holder still runs; only a definite answer counts. */
export function holderLiveness(
  deps: Pick<ActivityDeps, 'temporal'>,
  warn: (message: string, meta: object) => void = (message, meta) => Context.current().log.warn(message, meta as Record<string, unknown>),
): (holder: Holder) => Promise<Liveness> {
  return async ({ workflowId, runId }) => {
    if (!deps.temporal) return 'unknown'; // cannot tell: never break a lease blindly
    try {
      const d = await deps.temporal.workflow.getHandle(workflowId, runId).describe();
      return d.status.name === 'RUNNING' ? 'running' : 'gone';
    } catch (err) {
      // NotFound is an answer (ended and past retention); anything else (network, throttling) is not
      if (err instanceof WorkflowNotFoundError) return 'gone';
      warn('could not ask Temporal about the deploy lease holder; the lease stands', { workflowId, runId, error: String(err) });
      return 'unknown';
    }
  };
}

/** The deployment that `next` replaces keeps how it did with customers (docs/design.md, "Quality out"). */
async function recordReplaced(deps: ActivityDeps, loc: RegistryLocation, next: { slot: string; version: number }): Promise<void> {
  const replaced = await recordReplacedOnlineFigures(onlineStoreFor(deps.minio, deps.config), loc, next);
  if (replaced) {
    const { slot, version, requests, followed, hits } = replaced;
    Context.current().log.info('online figures recorded on the replaced deployment', { slot, version, requests, followed, hits });
  }
}

const ttlMs = (ttlSeconds: number | undefined) => (ttlSeconds ? ttlSeconds * 1000 : undefined);

export function registryActivities(deps: ActivityDeps) {
  const loc = registryLocation(deps.config);
  const lease = leaseOf(deps);
  return {
    /** The registry's state, first reconciled with the version the models topic says is served. */
    async getDeploymentState(): Promise<DeploymentState> {
      return reconciledDeploymentState(deps, (message, meta) => Context.current().log.warn(message, meta));
    },

    async commitActiveSlot(input: {
      slot: string;
      version: number;
      url: string;
      metrics: ModelMetrics;
      kind: 'deploy' | 'rollback';
    }): Promise<DeploymentState> {
      const run = callingRun();
      await recordReplaced(deps, loc, input);
      return recordDeployment(deps.minio, loc, { ...input, ...run, deployedAt: new Date().toISOString() });
    },

    /**
     * Takes the deploy lease for this run (for `ttlSeconds`, renewed while it
     * works); while another live run holds it, fails retryably (the
     * workflow's retry policy waits with back-off).
     */
    async acquireDeployLock(input?: { ttlSeconds?: number }): Promise<{ holder: string; expiresAt?: string }> {
      const holder = callingRun();
      const attempt = await lease.acquire(holder, { ttlMs: ttlMs(input?.ttlSeconds), liveness: holderLiveness(deps) });
      if (!attempt.acquired) {
        throw ApplicationFailure.retryable(
          `another deployment is in progress (${describeHolder(attempt.heldBy.holder)}, since ${attempt.heldBy.acquiredAt}, lease until ${attempt.heldBy.expiresAt}); waiting for it`,
          FailureType.DeployLockHeld,
        );
      }
      if (attempt.brokeFrom)
        Context.current().log.warn(`took over the deploy lease of ${describeHolder(attempt.brokeFrom)}: ${attempt.why}`);
      return { holder: `${holder.workflowId}/${holder.runId}`, expiresAt: attempt.lease.expiresAt };
    },

    /** Extends this run's lease; a run that lost it must not go on deploying. */
    async renewDeployLock(input: { ttlSeconds?: number }): Promise<{ renewed: true }> {
      if (!(await lease.renew(callingRun(), ttlMs(input.ttlSeconds)))) {
        throw ApplicationFailure.nonRetryable(
          'this run no longer holds the deploy lock (its lease expired and another run took it)',
          FailureType.DeployLockLost,
        );
      }
      return { renewed: true };
    },

    async releaseDeployLock(): Promise<{ released: boolean }> {
      return { released: await lease.release(callingRun()) };
    },

    async removeModelVersion(input: { slot: string; version: number }): Promise<{ removed: number }> {
      // A publish whose acknowledgement was lost may still have put the URL
      // on Kafka: a version the model server may be using is never removed.
      // Only this run's own record counts: a forged one under the same key must not keep a failed version.
      const key = `${input.slot}/${input.version}`;
      const publisher = publisherOf(callingRun());
      if ((await readDescriptors(deps.kafka, deps.config.topics.models)).some((d) => isOwnRecord(d, key, publisher))) {
        Context.current().log.warn('version was published after all; not removing it', input);
        return { removed: 0 };
      }
      const removed = await removeVersion(deps.minio, deps.config.buckets.models, input.slot, input.version);
      Context.current().log.info('removed standby version', { ...input, objects: removed });
      return { removed };
    },
  };
}
