/**
 * Workflow logic tested in-process on Temporal's time-skipping test server
 * (no dev server, no Kafka, no MinIO): the Java server installed from Maven
 * Central by deploy/local/temporal-test-server.sh, started by
 * @temporalio/testing on a free port for each test file and stopped with it.
 * Timers and activity retry back-off are skipped while a test awaits a run's
 * result; an activity in flight runs in real time.
 *
 * RECO_WORKFLOW_TEST_SERVER=dev runs the same tests on the local dev server
 * instead (no time skipping: waits take their real time; the runs show in the
 * web UI), to compare the two servers or to look at a run.
 */
import fs from 'node:fs';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
import { SEARCH_ATTRIBUTES } from '../../src/workflows/search-attributes';
import { TEMPORAL_TEST_SERVER_BIN } from './stack-bin';
import { testConfig, workflowBundle } from './temporal';

const IndexedValueType = temporal.api.enums.v1.IndexedValueType;
const indexedType = {
  Int: IndexedValueType.INDEXED_VALUE_TYPE_INT,
  Keyword: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  Double: IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE,
} as const;

/** Starts the test server with the project's search attributes registered (the workflows set them). */
export async function createTimeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  if (process.env.RECO_WORKFLOW_TEST_SERVER === 'dev') {
    // the stack registers the search attributes in its namespaces
    return TestWorkflowEnvironment.createFromExistingServer({
      address: testConfig.temporal.address,
      namespace: testConfig.temporal.namespace,
    });
  }
  if (!fs.existsSync(TEMPORAL_TEST_SERVER_BIN)) {
    throw new Error(
      `Temporal's test server is not installed (${TEMPORAL_TEST_SERVER_BIN} is missing): ` +
        'run `bash deploy/local/setup.sh --for-unit` (it resolves it from Maven Central)',
    );
  }
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: TEMPORAL_TEST_SERVER_BIN } },
  });
  const searchAttributes = Object.fromEntries(Object.entries(SEARCH_ATTRIBUTES).map(([name, type]) => [name, indexedType[type]]));
  await env.connection.operatorService.addSearchAttributes({ namespace: env.namespace ?? 'default', searchAttributes });
  return env;
}

export interface WorkerSpec {
  taskQueue: string;
  activities: object;
  /** host the project's workflows too (the training worker does; the serving worker does not) */
  workflows?: boolean;
}

/** Workers on the test server polling the given queues until `stop()`. */
export async function startWorkers(env: TestWorkflowEnvironment, specs: WorkerSpec[]): Promise<{ stop(): Promise<void> }> {
  const bundle = await workflowBundle();
  const workers = await Promise.all(
    specs.map((spec) =>
      Worker.create({
        connection: env.nativeConnection,
        namespace: env.namespace ?? 'default',
        taskQueue: spec.taskQueue,
        activities: spec.activities,
        ...(spec.workflows ? { workflowBundle: bundle } : {}),
      }),
    ),
  );
  const running = workers.map((w) => w.run());
  return {
    async stop() {
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
      await Promise.all(running);
    },
  };
}
