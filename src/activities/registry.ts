/** Registry activities: read the deployment state, record a deployment, remove a version. */
import { Context } from '@temporalio/activity';
import { readDeploymentState, recordDeployment } from '../registry/deployments';
import { removeVersion } from '../registry/model-versions';
import type { DeploymentState, ModelMetrics } from '../workflows/types';
import { registryLocation, type ActivityDeps } from './deps';

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

    async removeModelVersion(input: { slot: string; version: number }): Promise<{ removed: number }> {
      const removed = await removeVersion(deps.minio, deps.config.buckets.models, input.slot, input.version);
      Context.current().log.info('removed standby version', { ...input, objects: removed });
      return { removed };
    },
  };
}
