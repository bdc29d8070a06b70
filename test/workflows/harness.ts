/**
 * One time-skipping test server and one pair of workers (training with the
 * workflows, serving) per test file; each run acts on the fake world its
 * test passes (./fake-activities.ts).
 */
import { randomUUID } from 'node:crypto';
import type { Client, WorkflowExecutionDescription } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { statusQuery } from '../../src/workflows/definitions';
import type { RetrainAndDeployResult, RunStatus } from '../../src/workflows/types';
import { uniqueQueue } from '../helpers/temporal';
import { createTimeSkippingEnv, startWorkers } from '../helpers/time-skipping';
import { fakeServingActivities, fakeTrainingActivities, fakeWorld, type FakeWorld } from './fake-activities';

export interface RunOutcome {
  /** the run's result, or the error its result() threw */
  result: RetrainAndDeployResult | Error;
  status: RunStatus;
  workflowId: string;
  described: WorkflowExecutionDescription;
}

export interface Harness {
  env: TestWorkflowEnvironment;
  client: Client;
  /** Starts retrainAndDeploy on `world` with `input`, calls `during` before awaiting the result (time skips only then). */
  run(world: FakeWorld, input?: object, during?: (workflowId: string) => Promise<void>): Promise<RunOutcome>;
  close(): Promise<void>;
}

type Activities = Record<string, (...args: unknown[]) => Promise<unknown>>;

/** Activities that act on whichever world is current when they are called. */
function onCurrentWorld(make: (world: FakeWorld) => object, current: () => FakeWorld): Activities {
  const names = Object.keys(make(fakeWorld()));
  const call = (name: string, args: unknown[]) => (make(current()) as Activities)[name](...args);
  return Object.fromEntries(names.map((name) => [name, (...args: unknown[]) => call(name, args)]));
}

export async function startHarness(): Promise<Harness> {
  const env = await createTimeSkippingEnv();
  const training = uniqueQueue('wf-training');
  const serving = uniqueQueue('wf-serving');
  let world = fakeWorld();
  const workers = await startWorkers(env, [
    { taskQueue: training, activities: onCurrentWorld(fakeTrainingActivities, () => world), workflows: true },
    { taskQueue: serving, activities: onCurrentWorld(fakeServingActivities, () => world) },
  ]);
  const client = env.client;
  return {
    env,
    client,
    async run(w, input = {}, during) {
      world = w;
      world.clock = () => env.currentTimeMs();
      const workflowId = `wf-test-${randomUUID()}`;
      const handle = await client.workflow.start('retrainAndDeploy', {
        taskQueue: training,
        workflowId,
        args: [{ servingTaskQueue: serving, readinessTimeoutSeconds: 5, ...input }],
      });
      if (during) await during(workflowId);
      const result = await handle.result().then(
        (r) => r as RetrainAndDeployResult,
        (err: unknown) => err as Error,
      );
      return { result, status: await handle.query(statusQuery), workflowId, described: await handle.describe() };
    },
    async close() {
      await workers.stop();
      await env.teardown();
    },
  };
}
