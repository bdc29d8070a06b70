/**
 * Issue 24, item 14: the training child never outlives its training worker.
 * The worker runs as a process of its own (as deployed); SIGKILL of it
 * mid-training (no handler of its runs) must take its training child along
 * (the exit-with-parent preload is one guard), else an orphan would train
 * on and write a candidate for an attempt Temporal has already given up.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killProcess } from '../../src/process/children';
import { alive, trainingChildrenOf, waitFor } from '../helpers/processes';
import { FaultRig, SMALL_RUN } from './harness';

let rig: FaultRig;
beforeAll(async () => {
  rig = await FaultRig.create({ inProcessWorkers: false });
});
afterAll(async () => {
  await rig?.close();
});

describe('training worker SIGKILLed while its child trains', () => {
  it('takes the training child with it', async () => {
    const worker = await rig.spawnTrainingWorker('0');
    // minutes of training: an orphan would still be at it long after the wait below
    const handle = await rig.start({ ...SMALL_RUN, training: { ...SMALL_RUN.training, epochs: 1000 } });
    let child: number | undefined;
    try {
      child = await waitFor('the worker to start a training child', () => trainingChildrenOf(worker.child.pid!)[0], 90_000);
      await killProcess(worker);
      await waitFor('the orphaned training child to end', () => (alive(child!) ? undefined : true), 30_000);
      expect(alive(child)).toBe(false);
    } finally {
      await handle.terminate().catch(() => undefined);
      // an orphan this test made (the fix reverted): not left training
      if (child !== undefined && alive(child)) process.kill(child, 'SIGKILL');
    }
  });
});
