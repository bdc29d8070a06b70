/**
 * The training worker: hosts the retrain-and-deploy workflows and the
 * training-side activities on the `recommender-training` task queue.
 *   node --import tsx src/worker.ts   (dev: bundles src/workflows at start)
 *   node dist/worker.js               (production build: loads the prebuilt bundle)
 * SIGINT/SIGTERM shut it down gracefully: no new tasks are taken, a running
 * activity gets the grace time to finish or to heartbeat its cancellation.
 */
import fs from 'node:fs';
import path from 'node:path';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from './activities';
import { WORKFLOW_BUNDLE_FILE } from './build/workflow-bundle';
import { loadConfig } from './config';
import { createKafka } from './messaging/kafka';
import { createMinioClient } from './storage/minio-client';
import { connectClient, connectionOptions } from './temporal/connection';
import { HEARTBEAT_THROTTLE } from './temporal/heartbeat-throttle';

/**
 * The workflow code: the bundle `npm run build` wrote next to this file when
 * there is one (dist/), else src/workflows bundled now (dev, under tsx).
 */
function workflowSource(): { options: Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'>; description: string } {
  const codePath = path.join(__dirname, WORKFLOW_BUNDLE_FILE);
  if (fs.existsSync(codePath)) return { options: { workflowBundle: { codePath } }, description: `the prebuilt bundle ${codePath}` };
  const workflowsPath = require.resolve('./workflows');
  return { options: { workflowsPath }, description: `${path.relative(process.cwd(), workflowsPath)}, bundled at start` };
}

async function main(): Promise<void> {
  const cfg = loadConfig();
  const connection = await NativeConnection.connect(connectionOptions(cfg.temporal));
  const temporal = await connectClient(cfg.temporal);
  const source = workflowSource();
  const worker = await Worker.create({
    connection,
    namespace: cfg.temporal.namespace,
    taskQueue: cfg.temporal.taskQueues.training,
    ...source.options,
    activities: createActivities({
      config: cfg,
      minio: createMinioClient(cfg.minio),
      kafka: createKafka(cfg.kafka, '-training-worker'),
      temporal,
    }),
    // Training uses every core through TensorFlow's thread pools: one
    // activity at a time per worker by default (a run's activities are
    // sequential anyway); scale out with more workers on the same task queue.
    maxConcurrentActivityTaskExecutions: cfg.temporal.trainingWorkerMaxActivities,
    shutdownGraceTime: '20s',
    ...HEARTBEAT_THROTTLE,
  });
  console.log(`training worker: workflows from ${source.description}`);
  console.log(
    `training worker polling ${cfg.temporal.taskQueues.training} on ${cfg.temporal.address} (namespace ${cfg.temporal.namespace})`,
  );
  try {
    await worker.run();
  } finally {
    await temporal.connection.close();
    await connection.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
