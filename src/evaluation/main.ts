/**
 * Runs the online evaluator: `tsx src/evaluation/main.ts [--port 8092]`.
 * Kafka, MinIO, topics, window and grace come from the environment
 * (src/config.ts). SIGINT/SIGTERM checkpoint and stop; a SIGKILL loses
 * nothing either: the next start resumes from the checkpoints in MinIO.
 * Its own process rather than part of the serving worker: it must not
 * compete with the answer path for the event loop (a join over a day's
 * window is heavy), it scales by partitions of its own group, and a
 * restart of either does not disturb the other (docs/design.md).
 */
import { Command, Option } from 'commander';
import { integerArg } from '../arg-parsers';
import { loadConfig } from '../config';
import { closeOnSignals } from '../process/shutdown';
import { errorText } from '../process/json-log';
import { evaluatorLog as log, startOnlineEvaluator } from './evaluator';

async function main(): Promise<void> {
  const config = loadConfig();
  const flags = new Command()
    .name('online-evaluator')
    .description(
      'Joins served recommendations, shadow answers and purchases into online HR@10 per model version; REST /metrics and /healthz',
    )
    .addOption(new Option('--port <port>', 'REST port').default(config.evaluator.port).argParser(integerArg(0, 65535)))
    .addOption(new Option('--host <address>', 'REST bind address').env('EVALUATOR_HOST').default('127.0.0.1'))
    .parse()
    .opts<{ port: number; host: string }>();
  const evaluator = await startOnlineEvaluator({ config, port: flags.port, host: flags.host, log });
  log('info', 'online evaluator started', {
    url: evaluator.url,
    group: config.evaluator.groupId,
    windowMs: config.evaluator.windowMs,
    graceMs: config.evaluator.graceMs,
  });
  closeOnSignals(() => evaluator.close(), log);
}

main().catch((err: unknown) => {
  log('error', 'online evaluator failed to start', { error: errorText(err) });
  process.exit(1);
});
