/** `recommender cancel <workflowId>`: cancel a run cleanly through its update. */
import { WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { Command } from 'commander';
import { loadConfig } from '../../config';
import { connectClient } from '../../temporal/connection';
import { cancelRunUpdate } from '../../workflows/definitions';

/**
 * The cancelRun update (refused once the URL is out or the run has ended:
 * the refusal's reason is the error's message), then Temporal's own cancel,
 * so the run ends in Temporal's Canceled state once it has cleaned up.
 */
export async function cancelRun(client: Client, workflowId: string, reason: string): Promise<string> {
  const handle = client.workflow.getHandle(workflowId);
  let answer: string;
  try {
    answer = await handle.executeUpdate(cancelRunUpdate, { args: [reason] });
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError && err.cause) throw new Error(`cancel refused: ${err.cause.message}`);
    throw err;
  }
  await handle.cancel();
  return answer;
}

export function cancelCommand(): Command {
  return new Command('cancel')
    .description('cancel a running retrain-and-deploy run; its standby version is removed')
    .argument('<workflowId>')
    .option('--reason <text>', 'why', 'cancelled from the command line')
    .action(async (workflowId: string, flags: { reason: string }) => {
      const cfg = loadConfig();
      const client = await connectClient(cfg.temporal);
      try {
        console.log(await cancelRun(client, workflowId, flags.reason));
      } finally {
        await client.connection.close();
      }
    });
}
