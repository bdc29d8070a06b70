/**
 * Issue 24, item 14: training runs in a child process of the training
 * worker, never on the worker's own event loop (which completes workflow
 * tasks and sends heartbeats). Real Temporal, MinIO, Kafka and slots; the
 * training worker runs in this test process, so its training child is a
 * child of this PID, found in /proc.
 *  - a run trains in a child (another PID), whose per-epoch progress still
 *    reaches the workflow (status query), and the child is gone afterwards;
 *  - a SIGKILLed child fails the attempt with a retryable
 *    TrainingProcessDied, and the retry deploys;
 *  - cancelling the run kills the child.
 */
import { randomUUID } from 'node:crypto';
import type { WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { dataKeys } from '../../src/activities/data';
import { trainActivities } from '../../src/activities/train';
import { FailureType } from '../../src/failure-types';
import { listKeys } from '../../src/storage/objects';
import { candidatePrefix } from '../../src/store/layout';
import { statusQuery } from '../../src/workflows/definitions';
import type { DataRef, RetrainAndDeployResult } from '../../src/workflows/types';
import { alive, trainingChildrenOf, waitFor } from '../helpers/processes';
import { startTestSystem, type TestSystem } from '../helpers/system';

let sys: TestSystem;
beforeAll(async () => {
  sys = await startTestSystem();
});
afterAll(async () => {
  await sys?.stop();
});

const RUN = {
  data: { mode: 'generate', users: 1000, products: 300, seed: 21 },
  training: { objective: 'implicit', epochs: 4, heartbeatTimeoutSeconds: 10, evalUsers: 500 },
  gate: { tolerance: 1 },
};

function start(input: object = RUN): Promise<WorkflowHandleWithFirstExecutionRunId> {
  return sys.temporal.workflow.start('retrainAndDeploy', {
    taskQueue: sys.config.temporal.taskQueues.training,
    workflowId: `it-${sys.id}/training-child/${randomUUID()}`,
    args: [{ servingTaskQueue: sys.config.temporal.taskQueues.serving, readinessTimeoutSeconds: 60, ...input }],
  });
}

const trainingChildren = () => trainingChildrenOf(process.pid);
const trainingChild = () => waitFor('a training child process of this worker', () => trainingChildren()[0]);

describe('training in a child process of the training worker', () => {
  it("keeps a bad input's failure as it was: non-retryable BadInputError with its message", async () => {
    const deps = { config: sys.config, minio: sys.minio, kafka: sys.kafka };
    const keys = dataKeys(deps);
    await sys.minio.putObject(keys.bucket, keys.transactions, Buffer.from('customerId,products\n0,1|2\n1,2\n'));
    const data = { bucket: keys.bucket, transactionsKey: keys.transactions, sha256: '0'.repeat(64) } as DataRef;
    const input = { data, options: {}, candidatePrefix: `candidates/it-${sys.id}/bad-input` };
    const err = await new MockActivityEnvironment().run(trainActivities(deps).trainModel, input).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err).toMatchObject({ type: FailureType.BadInput, nonRetryable: true });
    expect((err as Error).message).toMatch(/purchase history changed since refreshData/);
    // the tests after this one generate their own history: this two-line one must not be what they train on
    await sys.minio.removeObject(keys.bucket, keys.transactions);
  });

  it('trains in another PID, relays its progress to the workflow, and leaves no process behind', async () => {
    const handle = await start();
    const pid = await trainingChild();
    expect(pid).not.toBe(process.pid);
    const result = (await handle.result()) as RetrainAndDeployResult;
    expect(result.outcome).toBe('deployed');
    // the epoch progress went child → worker → workflow signal
    expect((await handle.query(statusQuery)).training).toMatchObject({ epoch: 4, epochs: 4, loss: expect.any(Number) });
    expect(alive(pid)).toBe(false);
  });

  it('fails the attempt with a retryable TrainingProcessDied when the child is killed, and the retry deploys', async () => {
    const handle = await start();
    const pid = await trainingChild();
    process.kill(pid, 'SIGKILL');
    const result = (await handle.result()) as RetrainAndDeployResult;
    expect(result.outcome).toBe('deployed');
    const { events } = await handle.fetchHistory();
    const trainId = events!.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'trainModel')!.eventId;
    const started = events!.find((e) => e.activityTaskStartedEventAttributes?.scheduledEventId?.toString() === trainId!.toString());
    const attrs = started!.activityTaskStartedEventAttributes!;
    expect(attrs.attempt).toBe(2);
    expect(attrs.lastFailure?.applicationFailureInfo?.type).toBe(FailureType.TrainingProcessDied);
    expect(attrs.lastFailure?.message).toMatch(new RegExp(`training child process \\(pid ${pid}\\) was killed by SIGKILL`));
  });

  it('kills the child when the run is cancelled: it stores no candidate', async () => {
    // long enough that a child left running would finish and store its candidate
    const handle = await start({ ...RUN, training: { ...RUN.training, epochs: 20 } });
    const pid = await trainingChild();
    await handle.cancel();
    await expect(handle.result()).rejects.toThrow();
    await waitFor('the training child to end', () => (alive(pid) ? undefined : true), 120_000);
    expect(trainingChildren()).toEqual([]);
    const prefix = candidatePrefix(handle.workflowId, handle.firstExecutionRunId!);
    expect(await listKeys(sys.minio, sys.config.buckets.models, prefix)).toEqual([]);
  });
});
