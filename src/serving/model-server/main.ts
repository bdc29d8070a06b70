/**
 * Runs the model server: `tsx src/serving/model-server/main.ts [--port 8090]`.
 * Kafka, MinIO and topic names come from the environment (src/config.ts);
 * the flags below are the server's own knobs. SIGINT/SIGTERM close it
 * gracefully (in-flight requests finish or stay uncommitted); a second
 * signal exits at once.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { integerArg } from '../../arg-parsers';
import { loadConfig } from '../../config';
import { errorText, jsonLineLog } from '../../process/json-log';
import { startModelServer } from './server';
import { closeOnSignals } from '../../process/shutdown';

const integer = integerArg;

interface Flags {
  port: number;
  host: string;
  group: string;
  concurrency?: number;
  chunkSize?: number;
  maxProducts: number;
  predictTimeout: number;
  retries: number;
  popularity: boolean;
  popularityShadow: boolean;
  shadowShare?: number;
  fromBeginning: boolean;
}

async function main(): Promise<void> {
  const program = new Command()
    .name('model-server')
    .description('Scores recommendation requests from Kafka with the current TF Serving model; REST /state, /metrics, /healthz')
    .addOption(new Option('--port <port>', 'REST port').env('MODEL_SERVER_PORT').default(8090).argParser(integer(0, 65535)))
    .addOption(new Option('--host <address>', 'REST bind address').env('MODEL_SERVER_HOST').default('127.0.0.1'))
    .addOption(new Option('--group <id>', 'consumer group on the requests topic').env('MODEL_SERVER_GROUP').default('model-server'))
    .addOption(new Option('--concurrency <n>', 'predict calls of one partition in flight at once (default 2)').argParser(integer(1, 1024)))
    .addOption(new Option('--chunk-size <n>', 'most requests scored and written together (default 5000)').argParser(integer(1, 100_000)))
    .addOption(
      new Option('--max-products <n>', 'most distinct products per request (more: dead letter)').default(1000).argParser(integer(1)),
    )
    .addOption(new Option('--predict-timeout <ms>', 'deadline of one predict call').default(5000).argParser(integer(1)))
    .addOption(
      new Option('--retries <n>', 'predict attempts per request while the slot is unavailable').default(4).argParser(integer(1, 100)),
    )
    .addOption(new Option('--no-popularity', 'no popularity fallback: requests the model rejects get an error result'))
    .addOption(
      new Option('--shadow-share <x>', 'share of scored answers also scored on the standby slot (default SHADOW_SHARE, 0.1)').argParser(
        (v) => {
          const x = Number(v);
          if (!(x >= 0 && x <= 1)) throw new InvalidArgumentError(`expected a share within 0..1, got ${v}`);
          return x;
        },
      ),
    )
    .addOption(new Option('--no-popularity-shadow', 'no popularity shadow records (benchmark anchors)'))
    .addOption(new Option('--no-from-beginning', 'a new consumer group starts at the end of the requests topic'))
    .parse();
  const flags = program.opts<Flags>();

  const server = await startModelServer({
    config: loadConfig(),
    port: flags.port,
    host: flags.host,
    groupId: flags.group,
    concurrency: flags.concurrency,
    chunkSize: flags.chunkSize,
    maxProducts: flags.maxProducts,
    predictTimeoutMs: flags.predictTimeout,
    retry: { attempts: flags.retries },
    loadPopularity: flags.popularity ? undefined : null,
    shadowShare: flags.shadowShare,
    popularityShadows: flags.popularityShadow,
    fromBeginning: flags.fromBeginning,
    log: jsonLineLog,
  });
  jsonLineLog('info', 'model server started', { url: server.url, state: `${server.url}/state`, metrics: `${server.url}/metrics` });

  closeOnSignals(() => server.close(), jsonLineLog);
}

main().catch((err: unknown) => {
  jsonLineLog('error', 'model server failed to start', { error: errorText(err) });
  process.exit(1);
});
