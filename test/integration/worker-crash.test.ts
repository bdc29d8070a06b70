/**
 * SIGKILL the training worker in the middle of training; a new worker takes
 * over (after the heartbeat timeout) and the run completes with exactly one
 * published URL.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDescriptors } from '../../src/messaging/model-descriptors';
import { killProcess, spawnEntry, stopProcess, waitForLog, type Managed } from '../../src/process/children';
import { readProgress } from '../../src/cli/run-progress';
import type { RetrainAndDeployResult } from '../../src/workflows/types';
import { startTestSystem, type TestSystem } from '../helpers/system';

let sys: TestSystem;
const logDir = path.resolve(__dirname, '../../artifacts/test-logs');
const workers: Managed[] = [];

beforeAll(async () => {
  sys = await startTestSystem({ trainingWorker: false });
});
afterAll(async () => {
  for (const w of workers) await stopProcess(w, 5000);
  await sys?.stop();
});

async function startTrainingWorker(n: number): Promise<Managed> {
  const w = spawnEntry(`training-worker-${sys.id}-${n}`, 'src/worker.ts', [], logDir, { env: sys.env });
  workers.push(w);
  await waitForLog(w, /training worker polling/, 120_000);
  return w;
}

describe('training worker killed mid-training', () => {
  it('completes the run on a new worker and publishes one URL', async () => {
    const first = await startTrainingWorker(1);
    const handle = await sys.temporal.workflow.start('retrainAndDeploy', {
      taskQueue: sys.config.temporal.taskQueues.training,
      workflowId: `it-${sys.id}-crash`,
      args: [
        {
          servingTaskQueue: sys.config.temporal.taskQueues.serving,
          data: { mode: 'generate', users: 1000, products: 300, seed: 11 },
          // long enough (about 15 s here) that training is still running when its first batch
          // heartbeat reaches the server: the worker sends heartbeats every HEARTBEAT_THROTTLE (3 s),
          // and with 6 epochs a fast machine finished training before the second one
          training: { objective: 'implicit', epochs: 24, heartbeatTimeoutSeconds: 5 },
          gate: { tolerance: 1 },
        },
      ],
    });
    // wait until training has heartbeated batch progress, then kill -9
    for (let i = 0; ; i++) {
      const p = await readProgress(handle);
      if (p.status?.step === 'training' && (p.heartbeat?.batch ?? 0) > 0) break;
      if (p.closed || (p.status?.step && !['starting', 'refreshing-data', 'training'].includes(p.status.step))) {
        throw new Error(`the run reached ${p.status?.step ?? p.temporalStatus} before a batch heartbeat was seen`);
      }
      if (i > 600) throw new Error('training never reported progress');
      await new Promise((r) => setTimeout(r, 100));
    }
    await killProcess(first);
    await startTrainingWorker(2);
    const result = (await handle.result()) as RetrainAndDeployResult;
    expect(result.outcome).toBe('deployed');
    const descriptors = await readDescriptors(sys.kafka, sys.config.topics.models);
    expect(descriptors.map((d) => d.key)).toEqual([`${result.slot}/${result.version}`]);
    const history = await handle.fetchHistory();
    const attempts = history.events
      ?.filter((e) => e.activityTaskStartedEventAttributes)
      .map((e) => e.activityTaskStartedEventAttributes!.attempt);
    expect(attempts).toContain(2); // the training activity ran a second attempt
  });
});
