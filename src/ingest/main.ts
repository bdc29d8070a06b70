/**
 * Runs the data publisher: `tsx src/ingest/main.ts [--port 8091]`. Kafka,
 * MinIO, topics and limits come from the environment (src/config.ts).
 * SIGINT/SIGTERM stop it gracefully (buffered purchases are written as a
 * segment); a second signal exits at once. A SIGKILL loses nothing either:
 * the next owner of a partition resumes at the end of its segments.
 */
import { Command, Option } from 'commander';
import { integerArg } from '../arg-parsers';
import { loadConfig } from '../config';
import { errorText, publisherLog as log } from './log';
import { startDataPublisher } from './publisher';
import { closeOnSignals } from '../process/shutdown';

async function main(): Promise<void> {
  const config = loadConfig();
  const flags = new Command()
    .name('data-publisher')
    .description('Writes purchase events from Kafka into MinIO segments, exactly once; REST /metrics and /healthz')
    .addOption(new Option('--port <port>', 'REST port').default(config.purchases.port).argParser(integerArg(0, 65535)))
    .addOption(new Option('--host <address>', 'REST bind address').env('DATA_PUBLISHER_HOST').default('127.0.0.1'))
    .addOption(new Option('--group <id>', 'consumer group on the purchases topic').default(config.purchases.groupId))
    .parse()
    .opts<{ port: number; host: string; group: string }>();
  const publisher = await startDataPublisher({ config, port: flags.port, host: flags.host, groupId: flags.group, log });
  log('info', 'data publisher started', { url: publisher.url, topic: config.purchases.topic, group: flags.group });
  closeOnSignals(() => publisher.close(), log);
}

main().catch((err: unknown) => {
  log('error', 'data publisher failed to start', { error: errorText(err) });
  process.exit(1);
});
