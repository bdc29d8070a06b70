/**
 * A private, complete instance of the system inside a test process: its own
 * slots (real slot servers on free ports), data prefix, registry, topics and
 * task queues on the shared local stack, with the real activities.
 */
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { loadConfig, type Config } from '../../src/config';
import { createActivities } from '../../src/activities';
import type { TrainingActivities } from '../../src/workflows/activity-interfaces';
import { createKafka, ensureTopics } from '../../src/messaging/kafka';
import { servingActivities } from '../../src/serving/activities';
import { startSlotServer, type SlotServer } from '../../src/serving/slot/server';
import { createMinioClient } from '../../src/storage/minio-client';
import { connectClient } from '../../src/temporal/connection';
import { removePrefix } from './minio';
import { startWorker } from './temporal';

export interface TestSystem {
  id: string;
  config: Config;
  /** the environment that gives a child process this system's configuration */
  env: NodeJS.ProcessEnv;
  temporal: Client;
  minio: ReturnType<typeof createMinioClient>;
  kafka: ReturnType<typeof createKafka>;
  slots: SlotServer[];
  stop(): Promise<void>;
}

export async function startTestSystem(
  options: {
    withWorkers?: boolean;
    trainingWorker?: boolean;
    slots?: boolean;
    /** the training activities as the worker hosts them (a test may hold or fail one) */
    wrapActivities?: (activities: TrainingActivities) => TrainingActivities;
    /** more variables of this system's configuration (e.g. its purchase topics, the shadow share) */
    env?: NodeJS.ProcessEnv;
  } = {},
): Promise<TestSystem> {
  const id = randomUUID().slice(0, 8);
  const slotNames = [`it${id}a`, `it${id}b`];
  const base = loadConfig();
  const minio = createMinioClient(base.minio);
  const slots: SlotServer[] =
    options.slots === false
      ? []
      : await Promise.all(
          slotNames.map((name) =>
            startSlotServer({ name, host: '127.0.0.1', port: 0, client: minio, bucket: base.buckets.models, pollIntervalMs: 300 }),
          ),
        );
  const ports = slots.length ? slots.map((s) => new URL(s.url).port) : ['1', '2'];
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATA_PREFIX: `it-${id}`,
    REGISTRY_KEY: `it-${id}/deployments.json`,
    SLOT_NAMES: slotNames.join(','),
    SLOT_PORTS: ports.join(','),
    TOPIC_MODELS: `models-it-${id}`,
    TOPIC_REQUESTS: `mdata-it-${id}`,
    TOPIC_RESULTS: `recommendations-it-${id}`,
    TOPIC_DLQ: `mdata-dlq-it-${id}`,
    TOPIC_SHADOWS: `recommendations-shadow-it-${id}`,
    // the online evaluator's checkpoints (and so the figures activities read) live under online/<group>/
    EVALUATOR_GROUP: `online-evaluator-it-${id}`,
    TASK_QUEUE_TRAINING: `training-it-${id}`,
    TASK_QUEUE_SERVING: `serving-it-${id}`,
    ...options.env,
  };
  const config = loadConfig(env);
  const kafka = createKafka(config.kafka, `-it-${id}`);
  await ensureTopics(kafka, config.topics);
  const temporal = await connectClient(config.temporal);
  const workers =
    options.withWorkers === false
      ? []
      : [
          ...(options.trainingWorker === false
            ? []
            : [
                await startWorker(
                  config.temporal.taskQueues.training,
                  (options.wrapActivities ?? ((a) => a))(createActivities({ config, minio, kafka, temporal })),
                ),
              ]),
          await startWorker(config.temporal.taskQueues.serving, servingActivities(config), false),
        ];
  return {
    id,
    config,
    env,
    temporal,
    minio,
    kafka,
    slots,
    stop: async () => {
      for (const w of workers) await w.stop();
      for (const s of slots) await s.close();
      await temporal.connection.close();
      for (const name of slotNames) await removePrefix(minio, config.buckets.models, `${name}/`);
      await removePrefix(minio, config.buckets.models, `lineage/${slotNames[0]}/`);
      await removePrefix(minio, config.buckets.models, `lineage/${slotNames[1]}/`);
      await removePrefix(minio, config.buckets.models, `it-${id}/`);
      await removePrefix(minio, config.buckets.models, `candidates/it-${id}`);
      await removePrefix(minio, config.buckets.data, `it-${id}/`);
      const admin = kafka.admin();
      await admin.connect();
      const topics = [
        ...Object.values(config.topics),
        ...(options.env?.TOPIC_PURCHASES ? [config.purchases.topic, config.purchases.dlqTopic] : []),
      ];
      await admin.deleteTopics({ topics }).catch(() => undefined);
      await admin.disconnect();
    },
  };
}
