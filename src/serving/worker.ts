/**
 * The serving worker: a process of its own, apart from training. It runs
 *  - the model server (Kafka `mdata` in, `recommendations` out, `/state`, `/metrics`),
 *  - a Temporal worker on `recommender-serving` for the activities that
 *    belong next to serving (standby readiness + smoke prediction),
 *  - with --with-slots, the two model slots as child processes.
 *   tsx src/serving/worker.ts --with-slots
 */
import path from 'node:path';
import { NativeConnection, Worker } from '@temporalio/worker';
import { Command } from 'commander';
import { portArg } from '../arg-parsers';
import { loadConfig } from '../config';
import { spawnEntry, stopProcess, waitForLog, type Managed } from '../process/children';
import { connectionOptions } from '../temporal/connection';
import { servingActivities } from './activities';
import { startModelServer, type ModelServer } from './model-server';

const port = portArg;

async function main(): Promise<void> {
  const cfg = loadConfig();
  const o = new Command()
    .name('serving-worker')
    .option('--with-slots', 'also start both model slots as child processes')
    .option('--slot-log-dir <dir>', 'where the slots log', path.join(process.cwd(), 'artifacts', 'logs'))
    .option('--model-server-port <port>', 'REST port of the model server (/state, /metrics)', port, 8090)
    .option('--no-model-server', 'run only the Temporal worker (and slots)')
    .parse()
    .opts<{ withSlots?: boolean; slotLogDir: string; modelServerPort: number; modelServer: boolean }>();

  const slots: Managed[] = [];
  let modelServer: ModelServer | undefined;
  try {
    if (o.withSlots) {
      for (const s of cfg.slots) slots.push(spawnEntry(`slot-${s.name}`, 'src/serving/slot/main.ts', ['--slot', s.name], o.slotLogDir));
      await Promise.all(slots.map((s) => waitForLog(s, /serving http/)));
      console.log(`slots up: ${cfg.slots.map((s) => `${s.name} ${s.baseUrl}`).join(', ')} (logs in ${o.slotLogDir})`);
    }
    if (o.modelServer) {
      modelServer = await startModelServer({ config: cfg, port: o.modelServerPort });
      console.log(`model server: consuming ${cfg.topics.requests}, state on http://127.0.0.1:${o.modelServerPort}/state`);
    }
    const connection = await NativeConnection.connect(connectionOptions(cfg.temporal));
    const worker = await Worker.create({
      connection,
      namespace: cfg.temporal.namespace,
      taskQueue: cfg.temporal.taskQueues.serving,
      activities: servingActivities(cfg),
      shutdownGraceTime: '5s',
    });
    console.log(`serving worker polling ${cfg.temporal.taskQueues.serving} on ${cfg.temporal.address}`);
    await worker.run(); // returns after SIGINT/SIGTERM (the SDK's runtime handles them)
    await connection.close();
  } finally {
    await modelServer?.close();
    await Promise.all(slots.map((s) => stopProcess(s, 10_000)));
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
