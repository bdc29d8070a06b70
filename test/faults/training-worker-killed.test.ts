/** Fault 1: SIGKILL the training worker at a random point of a run, three runs in a row. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killProcess } from '../../src/process/children';
import type { RetrainAndDeployResult } from '../../src/workflows/types';
import { FaultRig, SMALL_RUN } from './harness';

let rig: FaultRig;
beforeAll(async () => {
  rig = await FaultRig.create({ inProcessWorkers: false });
  await rig.spawnServingWorker('1');
});
afterAll(async () => {
  await rig?.close();
});

describe('fault 1: training worker SIGKILLed mid-run, three times', () => {
  it('completes every run on a restarted worker, one descriptor per version', async () => {
    const deployed: { slot: string; version: number }[] = [];
    let worker = await rig.spawnTrainingWorker('0');
    for (let i = 1; i <= 3; i++) {
      const handle = await rig.start(i === 1 ? SMALL_RUN : { ...SMALL_RUN, data: { mode: 'append-day' } });
      // a random point: anywhere from data refresh to the middle of training
      const delay = 300 + Math.floor(Math.random() * 6000);
      await new Promise((r) => setTimeout(r, delay));
      await killProcess(worker);
      worker = await rig.spawnTrainingWorker(String(i));
      const result = (await handle.result()) as RetrainAndDeployResult;
      expect(result.outcome).toBe('deployed');
      deployed.push({ slot: result.slot!, version: result.version! });
    }
    expect(new Set(deployed.map((d) => d.version)).size).toBe(3);
    await rig.expectOneDescriptorPer(deployed);
  });
});
