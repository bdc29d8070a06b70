/** Registry activities: read the deployment state, record a deployment, the deploy lease, remove a version. */
import { FailureType } from '../failure-types';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { WorkflowNotFoundError } from '@temporalio/client';
import { isOwnRecord, publisherOf, readDescriptors } from '../messaging/model-descriptors';
import { describeHolder, type DeployLease, type Holder, type Liveness } from '../store/lease';
import { onlineStoreFor, replacedOnlineFigures } from '../store/online-figures';
import { recordDeployment, registryLocation, type RegistryFence, type RegistryLocation } from '../store/registry';
import { removeVersion } from '../store';
import type { DeploymentState, ModelMetrics } from '../workflows/types';
import { leaseOf, type ActivityDeps } from './deps';
import { mappingFailures } from './failures';
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

/** How the deployment that `next` replaces did with customers, to keep on its record (docs/design.md, "Quality out"). */
async function replacedOnline(deps: ActivityDeps, loc: RegistryLocation, next: { slot: string; version: number }) {
  const online = await replacedOnlineFigures(onlineStoreFor(deps.minio, deps.config), loc, next);
  if (online) {
    const { slot, version, requests, followed, hits } = online.figures;
    Context.current().log.info('online figures recorded on the replaced deployment', { slot, version, requests, followed, hits });
  }
  return online;
}

const ttlMs = (ttlSeconds: number | undefined) => (ttlSeconds ? ttlSeconds * 1000 : undefined);

/** The fence of a registry write by the calling run at `generation` (none for runs that took the lease before fencing). */
function fenceOf(lease: DeployLease, generation: number | undefined): RegistryFence | undefined {
  if (generation === undefined) return undefined;
  const holder = callingRun();
  return { generation, check: () => lease.checkFence(holder, generation) };
}

export function registryActivities(deps: ActivityDeps) {
  const loc = registryLocation(deps.config);
  const lease = leaseOf(deps);
  return {
    /**
     * The registry's state, first reconciled with the version the models
     * topic says is served (a write fenced by the caller's lease generation).
     */
    async getDeploymentState(input?: { leaseGeneration?: number }): Promise<DeploymentState> {
      const fence = fenceOf(lease, input?.leaseGeneration);
      return mappingFailures(() => reconciledDeploymentState(deps, (message, meta) => Context.current().log.warn(message, meta), fence));
    },

    async commitActiveSlot(input: {
      slot: string;
      version: number;
      url: string;
      metrics: ModelMetrics;
      kind: 'deploy' | 'rollback';
      /** the lease generation acquireDeployLock gave this run: a stale holder's write is refused (DeployLockLost) */
      leaseGeneration?: number;
    }): Promise<DeploymentState> {
      const { leaseGeneration, ...deployment } = input;
      const online = await replacedOnline(deps, loc, deployment);
      const record = { ...deployment, ...callingRun(), deployedAt: new Date().toISOString() };
      return mappingFailures(() => recordDeployment(deps.minio, loc, record, fenceOf(lease, leaseGeneration), online));
    },

    /**
     * Takes the deploy lease for this run (for `ttlSeconds`, renewed while it
     * works); while another live run holds it, fails retryably (the
     * workflow's retry policy waits with back-off).
     */
    async acquireDeployLock(input?: { ttlSeconds?: number }): Promise<{ holder: string; expiresAt?: string; generation?: number }> {
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
      return { holder: `${holder.workflowId}/${holder.runId}`, expiresAt: attempt.lease.expiresAt, generation: attempt.lease.generation };
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
