/** `recommender cancel <workflowId>`: cancel a run cleanly through its update. */
import { Command } from 'commander';
import { loadConfig } from '../../config';
import { connectClient } from '../../temporal/connection';
import { cancelRunUpdate } from '../../workflows/definitions';

export function cancelCommand(): Command {
  return new Command('cancel')
    .description('cancel a running retrain-and-deploy run; its standby version is removed')
    .argument('<workflowId>')
    .option('--reason <text>', 'why', 'cancelled from the command line')
    .action(async (workflowId: string, flags: { reason: string }) => {
      const cfg = loadConfig();
      const client = await connectClient(cfg.temporal);
      try {
        console.log(await client.workflow.getHandle(workflowId).executeUpdate(cancelRunUpdate, { args: [flags.reason] }));
      } finally {
        await client.connection.close();
      }
    });
}
