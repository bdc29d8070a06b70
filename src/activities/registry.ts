/** Registry activities: read the deployment state, record a deployment, remove a version. */
import { ApplicationFailure, Context } from '@temporalio/activity';
import { readDescriptors } from '../messaging/model-descriptors';
import { lockKey, release, tryAcquire } from '../registry/deploy-lock';
import { readDeploymentState, recordDeployment } from '../registry/deployments';
import { removeVersion } from '../registry/model-versions';
import type { DeploymentState, ModelMetrics } from '../workflows/types';
import { registryLocation, type ActivityDeps } from './deps';

/** `<workflowId>/<runId>` of the calling activity's workflow run. */
function runKey(): string {
  const wf = Context.current().info.workflowExecution;
  return `${wf?.workflowId ?? 'unknown'}/${wf?.runId ?? 'unknown'}`;
}

export function registryActivities(deps: ActivityDeps) {
  const loc = registryLocation(deps.config);
  return {
    async getDeploymentState(): Promise<DeploymentState> {
      return readDeploymentState(deps.minio, loc);
    },

    async commitActiveSlot(input: {
      slot: string;
      version: number;
      url: string;
      metrics: ModelMetrics;
      kind: 'deploy' | 'rollback';
    }): Promise<DeploymentState> {
      const { workflowExecution } = Context.current().info;
      return recordDeployment(deps.minio, loc, {
        ...input,
        workflowId: workflowExecution?.workflowId ?? 'unknown',
        runId: workflowExecution?.runId ?? 'unknown',
        deployedAt: new Date().toISOString(),
      });
    },

    /**
     * Takes the deploy lease for this run; while another running run holds
     * it, fails retryably (the workflow's retry policy waits with back-off).
     */
    async acquireDeployLock(): Promise<{ holder: string }> {
      const holder = runKey();
      const attempt = await tryAcquire(deps.minio, loc.modelsBucket, lockKey(loc.registryKey), holder, async (other) => {
        if (!deps.temporal) return true; // cannot tell: never break a lease blindly
        const [workflowId, runId] = other.split('/');
        try {
          const d = await deps.temporal.workflow.getHandle(workflowId, runId).describe();
          return d.status.name === 'RUNNING';
        } catch {
          return false; // unknown to Temporal (e.g. retention ended): gone
        }
      });
      if (!attempt.acquired) {
        throw ApplicationFailure.retryable(
          `another deployment is in progress (${attempt.heldBy.holder}, since ${attempt.heldBy.acquiredAt}); waiting for it`,
          'DeployLockHeld',
        );
      }
      return { holder };
    },

    async releaseDeployLock(): Promise<{ released: boolean }> {
      return { released: await release(deps.minio, loc.modelsBucket, lockKey(loc.registryKey), runKey()) };
    },

    async removeModelVersion(input: { slot: string; version: number }): Promise<{ removed: number }> {
      // A publish whose acknowledgement was lost may still have put the URL
      // on Kafka: a version the model server may be using is never removed.
      const key = `${input.slot}/${input.version}`;
      if ((await readDescriptors(deps.kafka, deps.config.topics.models)).some((d) => d.key === key)) {
        Context.current().log.warn('version was published after all; not removing it', input);
        return { removed: 0 };
      }
      const removed = await removeVersion(deps.minio, deps.config.buckets.models, input.slot, input.version);
      Context.current().log.info('removed standby version', { ...input, objects: removed });
      return { removed };
    },
  };
}
