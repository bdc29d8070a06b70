/** `recommender rollback`: serve the previous model again (no retraining). */
import { randomUUID } from 'node:crypto';
import { Command } from 'commander';
import { loadConfig } from '../../config';
import { connectClient } from '../../temporal/connection';
import { workflowUrl } from '../ui-links';

export function rollbackCommand(): Command {
  return new Command('rollback')
    .description('switch serving back to the previous deployment (or --version N)')
    .option('--version <n>', 'the version to return to')
    .action(async (flags: { version?: string }) => {
      const cfg = loadConfig();
      const client = await connectClient(cfg.temporal);
      try {
        const workflowId = `recommender-rollback-${randomUUID()}`;
        const handle = await client.workflow.start('rollbackDeployment', {
          taskQueue: cfg.temporal.taskQueues.training,
          workflowId,
          args: [{ version: flags.version ? Number(flags.version) : undefined, servingTaskQueue: cfg.temporal.taskQueues.serving }],
        });
        console.log(`web UI: ${workflowUrl(cfg.temporal, workflowId, handle.firstExecutionRunId)}`);
        console.log(JSON.stringify(await handle.result(), null, 2));
      } finally {
        await client.connection.close();
      }
    });
}
