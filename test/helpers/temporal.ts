/** Test helpers for workers on the real local Temporal dev server. */
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { bundleWorkflowCode, NativeConnection, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { loadConfig } from '../../src/config';

export const testConfig = loadConfig();

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;

/** The project's workflow bundle, built once per test file. */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({
    workflowsPath: path.resolve(__dirname, '../../src/workflows/index.ts'),
    logger: {
      info: () => undefined,
      warn: () => undefined,
      error: console.error,
      debug: () => undefined,
      trace: () => undefined,
      log: () => undefined,
    },
  });
  return bundle;
}

export function uniqueQueue(name: string): string {
  return `${name}-${randomUUID()}`;
}

export async function startWorker(
  taskQueue: string,
  activities: object,
  withWorkflows = true,
): Promise<{ worker: Worker; running: Promise<void>; stop(): Promise<void> }> {
  const connection = await NativeConnection.connect({ address: testConfig.temporal.address });
  const worker = await Worker.create({
    connection,
    namespace: testConfig.temporal.namespace,
    taskQueue,
    activities,
    ...(withWorkflows ? { workflowBundle: await workflowBundle() } : {}),
  });
  const running = worker.run();
  return {
    worker,
    running,
    stop: async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
      await connection.close();
    },
  };
}
