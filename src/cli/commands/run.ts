/** `recommender run`: start a retrain-and-deploy run now, optionally wait for it. */
import { randomUUID } from 'node:crypto';
import { Command } from 'commander';
import { loadConfig } from '../../config';
import { connectClient } from '../../temporal/connection';
import { retrainAndDeploy } from '../../workflows';
import { workflowUrl } from '../ui-links';
import { addInputOptions, buildInput, runMetadata, type InputFlags } from '../workflow-input';
import { followRun, formatResult } from './status';

export function runCommand(): Command {
  return addInputOptions(
    new Command('run')
      .description('start a retrain-and-deploy run now')
      .option('--id <workflowId>', 'workflow id (default: recommender-retrain-manual-<uuid>)')
      .option('--wait', 'follow the run until it ends')
      .option('--json', 'with --wait: print the result as JSON'),
  ).action(async (flags: InputFlags & { id?: string; wait?: boolean; json?: boolean }) => {
    const cfg = loadConfig();
    // refused here, before anything is started, when a field is wrong
    const input = buildInput(flags, cfg.temporal.taskQueues.serving);
    const client = await connectClient(cfg.temporal);
    try {
      const handle = await client.workflow.start(retrainAndDeploy, {
        taskQueue: cfg.temporal.taskQueues.training,
        workflowId: flags.id ?? `recommender-retrain-manual-${randomUUID()}`,
        args: [input],
        ...runMetadata('cli', input),
      });
      console.log(`started ${handle.workflowId} (run ${handle.firstExecutionRunId})`);
      console.log(`web UI: ${workflowUrl(cfg.temporal, handle.workflowId, handle.firstExecutionRunId)}`);
      if (flags.wait) {
        const result = (await followRun(client, handle.workflowId)) as Awaited<ReturnType<typeof retrainAndDeploy>>;
        console.log(flags.json ? JSON.stringify(result, null, 2) : formatResult(result));
        if (result.outcome !== 'deployed') process.exitCode = 2;
      }
    } finally {
      await client.connection.close();
    }
  });
}
