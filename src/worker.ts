/**
 * The training worker: hosts the retrain-and-deploy workflows and the
 * training-side activities on the `recommender-training` task queue.
 *   tsx src/worker.ts
 * SIGINT/SIGTERM shut it down gracefully: no new tasks are taken, a running
 * activity gets the grace time to finish or to heartbeat its cancellation.
 */
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from './activities';
import { loadConfig } from './config';
import { createKafka } from './messaging/kafka';
import { createMinioClient } from './storage/minio-client';
import { connectClient, connectionOptions } from './temporal/connection';

async function main(): Promise<void> {
  const cfg = loadConfig();
  const connection = await NativeConnection.connect(connectionOptions(cfg.temporal));
  const temporal = await connectClient(cfg.temporal);
  const worker = await Worker.create({
    connection,
    namespace: cfg.temporal.namespace,
    taskQueue: cfg.temporal.taskQueues.training,
    workflowsPath: require.resolve('./workflows'),
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
    // Heartbeats carry training progress to the web UI: send them every few
    // seconds instead of the default (80% of the heartbeat timeout).
    maxHeartbeatThrottleInterval: '3s',
  });
  console.log(`training worker polling ${cfg.temporal.taskQueues.training} on ${cfg.temporal.address} (namespace ${cfg.temporal.namespace})`);
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
