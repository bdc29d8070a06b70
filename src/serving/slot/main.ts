/**
 * Entry of one model slot process:
 *   tsx src/serving/slot/main.ts --slot recommender1
 * Port and base path come from configuration (SLOT_NAMES / SLOT_PORTS).
 */
import { Command, InvalidArgumentError } from 'commander';
import { loadConfig } from '../../config';
import { createMinioClient } from '../../storage/minio-client';
import { startSlotServer } from './server';

const integer = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`expected a positive integer, got "${v}"`);
  return n;
};

async function main(): Promise<void> {
  const cfg = loadConfig();
  const program = new Command()
    .name('slot')
    .description('A TensorFlow-Serving-compatible model slot serving the newest SavedModel under models/<slot>/')
    .requiredOption('--slot <name>', `slot name (${cfg.slots.map((s) => s.name).join(' or ')})`)
    .option('--port <port>', 'port (default: from SLOT_PORTS)', integer)
    .option('--poll-ms <ms>', 'how often to look for new versions', integer, 1000)
    .option('--max-batch <n>', 'largest batch one predict call may carry', integer, 10_000)
    .parse();
  const o = program.opts<{ slot: string; port?: number; pollMs: number; maxBatch: number }>();
  const slot = cfg.slots.find((s) => s.name === o.slot);
  if (!slot && o.port === undefined) {
    program.error(`unknown slot "${o.slot}": configured slots are ${cfg.slots.map((s) => s.name).join(', ')} (or pass --port)`);
  }
  const server = await startSlotServer({
    name: o.slot,
    host: new URL(slot?.baseUrl ?? 'http://127.0.0.1').hostname,
    port: o.port ?? slot!.port,
    client: createMinioClient(cfg.minio),
    bucket: cfg.buckets.models,
    pollIntervalMs: o.pollMs,
    maxBatch: o.maxBatch,
    log: (msg) => console.log(`[slot ${o.slot}] ${msg}`),
  });
  console.log(`[slot ${o.slot}] serving ${server.url}/v1/models/${o.slot} from ${cfg.buckets.models}/${o.slot}/`);
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
