/**
 * Entry of one model slot process:
 *   tsx src/serving/slot/main.ts --slot recommender1
 * Ports and base path come from configuration (SLOT_NAMES / SLOT_PORTS /
 * SLOT_GRPC_PORTS), limits from SLOT_MAX_BATCH_ROWS / SLOT_MAX_BODY_BYTES.
 */
import { Command } from 'commander';
import { integerArg } from '../../arg-parsers';
import { loadConfig } from '../../config';
import { createMinioClient } from '../../storage/minio-client';
import { startSlotServer } from './server';
import { modelUrl } from '../../messaging/predict-url';

const integer = integerArg(1);

async function main(): Promise<void> {
  const cfg = loadConfig();
  const program = new Command()
    .name('slot')
    .description('A TensorFlow-Serving-compatible model slot serving the newest SavedModel under models/<slot>/')
    .requiredOption('--slot <name>', `slot name (${cfg.slots.map((s) => s.name).join(' or ')})`)
    .option('--port <port>', 'REST port (default: from SLOT_PORTS)', integer)
    .option('--grpc-port <port>', 'gRPC port (default: from SLOT_GRPC_PORTS)', integer)
    .option('--no-grpc', 'serve the REST API only')
    .option('--poll-ms <ms>', 'how often to look for new versions', integer, 1000)
    .option('--max-batch <n>', 'most rows one predict call may carry (default: SLOT_MAX_BATCH_ROWS)', integer, cfg.slotLimits.maxBatchRows)
    .option('--batch-max-rows <n>', 'server-side batching: most rows scored in one session run (default: SLOT_BATCH_MAX_ROWS)', integer)
    .option(
      '--batch-timeout-micros <us>',
      'server-side batching: how long a batch waits for more calls (default: SLOT_BATCH_TIMEOUT_MICROS)',
      integerArg(0),
    )
    .option('--no-batching', 'score every predict call in a session run of its own')
    .option(
      '--body-limit <bytes>',
      'largest predict body / gRPC message (default: SLOT_MAX_BODY_BYTES)',
      integer,
      cfg.slotLimits.maxBodyBytes,
    )
    .parse();
  const o = program.opts<{
    slot: string;
    port?: number;
    grpcPort?: number;
    grpc: boolean;
    pollMs: number;
    maxBatch: number;
    bodyLimit: number;
    batchMaxRows?: number;
    batchTimeoutMicros?: number;
    batching: boolean;
  }>();
  const slot = cfg.slots.find((s) => s.name === o.slot);
  if (!slot && o.port === undefined) {
    program.error(`unknown slot "${o.slot}": configured slots are ${cfg.slots.map((s) => s.name).join(', ')} (or pass --port)`);
  }
  const server = await startSlotServer({
    name: o.slot,
    host: new URL(slot?.baseUrl ?? 'http://127.0.0.1').hostname,
    port: o.port ?? slot!.port,
    grpcPort: o.grpc ? (o.grpcPort ?? slot?.grpcPort) : undefined,
    client: createMinioClient(cfg.minio),
    bucket: cfg.buckets.models,
    pollIntervalMs: o.pollMs,
    maxBatch: o.maxBatch,
    bodyLimit: o.bodyLimit,
    batching: {
      maxBatchSize: o.batching ? (o.batchMaxRows ?? cfg.slotBatching.maxBatchSize) : 1,
      batchTimeoutMicros: o.batchTimeoutMicros ?? cfg.slotBatching.batchTimeoutMicros,
    },
    log: (msg) => console.log(`[slot ${o.slot}] ${msg}`),
  });
  const grpcNote = server.grpcAddress ? ` and gRPC ${server.grpcAddress}` : '';
  console.log(`[slot ${o.slot}] serving ${modelUrl(server.url, o.slot)}${grpcNote} from ${cfg.buckets.models}/${o.slot}/`);
  const stop = () => {
    void server.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
