/**
 * The host side of `npm run test:containers` (test/containers/run.sh): the
 * containers do the work, this drives and checks it. Its configuration is
 * the private one run.sh gives the containers (topics, task queues, slots,
 * data prefix, registry key), from the environment.
 *
 *   node --import tsx test/containers/e2e.ts prepare   create the private topics
 *   node --import tsx test/containers/e2e.ts run       one retrainAndDeploy, then requests
 *   node --import tsx test/containers/e2e.ts cleanup   delete the topics and stored objects
 *
 * `run` fails (exit 1, a message naming what is missing) unless the run
 * deploys and every request of the final batch gets a result scored by the
 * deployed model version.
 */
import { randomUUID } from 'node:crypto';
import { Partitioners, type Producer } from 'kafkajs';
import { loadConfig } from '../../src/config';
import { createKafka, ensureTopics } from '../../src/messaging/kafka';
import { ResultsTracker } from '../../src/cli/results-tracker';
import { sendRequests } from '../../src/cli/request-client';
import { createMinioClient } from '../../src/storage/minio-client';
import { connectClient } from '../../src/temporal/connection';
import type { RetrainAndDeployResult } from '../../src/workflows/types';
import { removePrefix } from '../helpers/minio';

const cfg = loadConfig();
const kafka = createKafka(cfg.kafka, '-containers-e2e');
const RUN_ID = process.env.CONTAINERS_RUN_ID ?? 'ct';
// small enough to train in seconds; the requests stay inside its id ranges
const SHAPE = { users: 300, products: 60, maxProductsPerRequest: 10 };
const INPUT = {
  data: { mode: 'generate', users: SHAPE.users, products: SHAPE.products, seed: 7 },
  training: { epochs: 4, evalUsers: SHAPE.users },
  servingTaskQueue: cfg.temporal.taskQueues.serving,
  readinessTimeoutSeconds: 120,
};
const FINAL_BATCH = 50;

function log(msg: string): void {
  console.log(`[e2e] ${msg}`);
}

async function prepare(): Promise<void> {
  await ensureTopics(kafka, cfg.topics);
  log(`topics ${Object.values(cfg.topics).join(', ')}`);
}

async function run(): Promise<void> {
  const temporal = await connectClient(cfg.temporal);
  const started = Date.now();
  let result: RetrainAndDeployResult;
  try {
    const handle = await temporal.workflow.start('retrainAndDeploy', {
      taskQueue: cfg.temporal.taskQueues.training,
      workflowId: `containers-${RUN_ID}-${randomUUID().slice(0, 8)}`,
      args: [INPUT],
      workflowExecutionTimeout: '15m',
    });
    log(`started ${handle.workflowId} on ${cfg.temporal.taskQueues.training} (namespace ${cfg.temporal.namespace})`);
    result = (await handle.result()) as RetrainAndDeployResult;
  } finally {
    await temporal.connection.close();
  }
  const runSeconds = (Date.now() - started) / 1000;
  if (result.outcome !== 'deployed')
    throw new Error(`retrainAndDeploy ended '${result.outcome}', not 'deployed': ${JSON.stringify(result)}`);
  const deployed = `${result.slot}/${result.version}`;
  log(`deployed ${deployed} in ${runSeconds.toFixed(1)} s: ${result.url} (HR@10 ${result.metrics?.hitRate10})`);

  const tracker = new ResultsTracker(kafka, cfg.topics.results);
  await tracker.start();
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  try {
    // The model server learns the new URL from the models topic; until then
    // it may answer from the popularity fallback. Send a few until the
    // deployed model answers (or give up after 90 s), then the checked batch.
    const deadline = Date.now() + 90_000;
    for (;;) {
      const before = tracker.all().length;
      tracker.expect((await sendAll(producer, 5)).sent);
      await tracker.drain(15_000);
      if (
        tracker
          .all()
          .slice(before)
          .some((a) => modelOf(a.result) === deployed)
      )
        break;
      if (Date.now() > deadline)
        throw new Error(`no result from the deployed model ${deployed} within 90 s: ${JSON.stringify(tracker.stats())}`);
    }
    const batchStart = Date.now();
    const { sent } = await sendAll(producer, FINAL_BATCH);
    tracker.expect(sent);
    await tracker.drain(60_000);
    const ids = new Set(sent.map((s) => s.requestId));
    const answers = tracker.all().filter((a) => ids.has(a.requestId));
    const missing = sent.length - answers.length;
    const other = answers.filter((a) => a.result.outcome !== 'scored' || modelOf(a.result) !== deployed);
    if (missing > 0 || other.length > 0) {
      throw new Error(
        `of ${sent.length} requests ${missing} got no result and ${other.length} were not scored by ${deployed} ` +
          `(e.g. ${JSON.stringify(other[0]?.result ?? tracker.unanswered()[0])})`,
      );
    }
    const latencies = answers.map((a) => a.receivedAt - a.sentAt).sort((a, b) => a - b);
    log(
      `${answers.length}/${sent.length} requests answered by ${deployed} on ${cfg.topics.results} in ${((Date.now() - batchStart) / 1000).toFixed(1)} s ` +
        `(end-to-end p50 ${latencies[Math.floor(latencies.length / 2)].toFixed(0)} ms, max ${latencies[latencies.length - 1].toFixed(0)} ms)`,
    );
  } finally {
    await producer.disconnect();
    await tracker.stop();
  }
}

type AnyResult = ReturnType<ResultsTracker['all']>[number]['result'];
function modelOf(r: AnyResult): string {
  return `${r.model.slot ?? r.model.name}/${r.model.version ?? '?'}`;
}

async function sendAll(producer: Producer, count: number) {
  const sent: Parameters<ResultsTracker['expect']>[0] = [];
  await sendRequests({ kafka, producer, topic: cfg.topics.requests, count, rate: 0, shape: SHAPE, onSent: (s) => sent.push(...s) });
  return { sent };
}

async function cleanup(): Promise<void> {
  // never the shared stack's own data: only a private prefix (run.sh sets ct-<id>)
  if (!/^ct-[0-9a-f]+$/.test(cfg.dataPrefix)) throw new Error(`cleanup: DATA_PREFIX '${cfg.dataPrefix}' is not a private ct-<id> prefix`);
  const minio = createMinioClient(cfg.minio);
  for (const slot of cfg.slots) {
    await removePrefix(minio, cfg.buckets.models, `${slot.name}/`);
    await removePrefix(minio, cfg.buckets.models, `lineage/${slot.name}/`);
  }
  await removePrefix(minio, cfg.buckets.models, `${cfg.dataPrefix}/`);
  await removePrefix(minio, cfg.buckets.models, `candidates/${cfg.dataPrefix}`);
  await removePrefix(minio, cfg.buckets.data, `${cfg.dataPrefix}/`);
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: Object.values(cfg.topics) }).catch(() => undefined);
  await admin.disconnect();
  log('topics and stored objects removed');
}

const commands: Record<string, () => Promise<void>> = { prepare, run, cleanup };
const command = commands[process.argv[2] ?? ''];
if (!command) {
  console.error(`usage: e2e.ts ${Object.keys(commands).join('|')}`);
  process.exit(2);
}
command().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`[e2e] ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
