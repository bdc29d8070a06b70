/** `recommender rollback`: serve the previous model again (no retraining). */
import { randomUUID } from 'node:crypto';
import { Command } from 'commander';
import { loadConfig } from '../../config';
import { connectClient } from '../../temporal/connection';
import { describeIssues, rollbackInputSchema } from '../../workflows/input-schema';
import { rollbackDeployment } from '../../workflows';
import { workflowUrl } from '../ui-links';
import { rollbackMetadata } from '../workflow-input';
import { formatResult } from './status';

export function rollbackCommand(): Command {
  return new Command('rollback')
    .description('switch serving back to the previous deployment (or --version N)')
    .option('--version <n>', 'the version to return to')
    .option('--json', 'print the result as JSON')
    .action(async (flags: { version?: string; json?: boolean }) => {
      const cfg = loadConfig();
      const parsed = rollbackInputSchema.safeParse({
        ...(flags.version !== undefined && { version: Number(flags.version) }),
        servingTaskQueue: cfg.temporal.taskQueues.serving,
      });
      if (!parsed.success) throw new Error(`--version is invalid: ${describeIssues(parsed.error)}`);
      const client = await connectClient(cfg.temporal);
      try {
        const workflowId = `recommender-rollback-${randomUUID()}`;
        const handle = await client.workflow.start(rollbackDeployment, {
          taskQueue: cfg.temporal.taskQueues.training,
          workflowId,
          args: [parsed.data],
          ...rollbackMetadata(parsed.data),
        });
        console.log(`web UI: ${workflowUrl(cfg.temporal, workflowId, handle.firstExecutionRunId)}`);
        const result = await handle.result();
        console.log(flags.json ? JSON.stringify(result, null, 2) : formatResult(result));
        if (result.outcome !== 'rolled-back') process.exitCode = 2;
      } finally {
        await client.connection.close();
      }
    });
}
