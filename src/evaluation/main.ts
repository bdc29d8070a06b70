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
import { loadConfig, type Config } from '../config';
import { createMinioClient } from '../storage/minio-client';
import { onlineStoreFor } from '../store/online-figures';
import { connectClient } from '../temporal/connection';
import { startOnlineRollbackPolicy } from './online-rollback';
import { closeOnSignals } from '../process/shutdown';
import { errorText } from '../process/json-log';
import { evaluatorLog as log, startOnlineEvaluator } from './evaluator';

/** The opt-in online rollback policy (ONLINE_ROLLBACK_MIN_PAIRS > 0), beside the evaluator whose figures it reads. */
async function startPolicy(config: Config): Promise<{ stop(): Promise<void> }> {
  const minio = createMinioClient(config.minio);
  const temporal = await connectClient(config.temporal);
  const deps = { config, minio, temporal, store: onlineStoreFor(minio, config), log };
  const policy = startOnlineRollbackPolicy(deps, config.onlineRollback.checkMs);
  log('info', 'online rollback policy on', { minPairs: config.onlineRollback.minPairs, everyMs: config.onlineRollback.checkMs });
  return {
    stop: async () => {
      policy.stop();
      await temporal.connection.close();
    },
  };
}

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
    idleMs: config.evaluator.idleMs,
    stallMs: config.evaluator.stallMs,
  });
  const policy = config.onlineRollback.minPairs > 0 ? await startPolicy(config) : undefined;
  closeOnSignals(async () => {
    await policy?.stop();
    await evaluator.close();
  }, log);
}

main().catch((err: unknown) => {
  log('error', 'online evaluator failed to start', { error: errorText(err) });
  process.exit(1);
});
