/**
 * The project's command line:
 *   tsx src/cli/main.ts run | status | schedule … | retention … | rollback | cancel | online
 * (npm scripts: `npm run recommender -- <command>`).
 */
import { Command } from 'commander';
import { ConfigError } from '../config';
import { cancelCommand } from './commands/cancel';
import { onlineCommand } from './commands/online';
import { retentionCommand } from './commands/retention';
import { rollbackCommand } from './commands/rollback';
import { runCommand } from './commands/run';
import { scheduleCommand } from './commands/schedule';
import { statusCommand } from './commands/status';
import { describeError } from './format';

const program = new Command()
  .name('recommender')
  .description('Retrain-and-deploy a recommender on Temporal, Kafka and MinIO')
  .addCommand(runCommand())
  .addCommand(statusCommand())
  .addCommand(scheduleCommand())
  .addCommand(retentionCommand())
  .addCommand(rollbackCommand())
  .addCommand(cancelCommand())
  .addCommand(onlineCommand());

program.parseAsync().catch((err: unknown) => {
  console.error(err instanceof ConfigError ? `error: ${err.message}` : `error: ${describeError(err)}`);
  process.exit(1);
});
