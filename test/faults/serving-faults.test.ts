/**
 * Faults 2 and 3, on the serving side, with requests flowing throughout:
 *  2. SIGKILL the serving worker while a run waits for standby readiness;
 *  3. stop the standby slot during readiness polling.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killProcess } from '../../src/process/children';
import { listVersions } from '../../src/store';
import { startSlotServer } from '../../src/serving/slot/server';
import type { RetrainAndDeployResult } from '../../src/workflows/types';
import { failureMessages } from '../helpers/failures';
import { FaultRig, SMALL_RUN } from './harness';

let rig: FaultRig;
beforeAll(async () => {
  rig = await FaultRig.create({ inProcessWorkers: false });
  await rig.spawnTrainingWorker('1');
  await rig.spawnServingWorker('1');
  // a first model in slot A, then traffic on it
  const first = (await (await rig.start()).result()) as RetrainAndDeployResult;
  expect(first).toMatchObject({ outcome: 'deployed', slot: rig.sys.config.slots[0].name });
  await rig.startTraffic(20);
}, 240_000);
afterAll(async () => {
  await rig?.close();
});

/** Replaces slot i by a fresh server on the same port (as a restarted slot process would be). */
async function restartSlot(i: 0 | 1): Promise<void> {
  const old = rig.sys.slots[i];
  const port = Number(new URL(old.url).port);
  await old.close();
  rig.sys.slots[i] = await startSlotServer({
    name: rig.sys.config.slots[i].name,
    host: '127.0.0.1',
    port,
    client: rig.sys.minio,
    bucket: rig.sys.config.buckets.models,
    pollIntervalMs: 300,
  });
}

describe('serving-side faults', () => {
  it('2: serving worker SIGKILLed during readiness: the run completes on a restarted worker', async () => {
    const standby = rig.sys.config.slots[1];
    // hold the standby down so that readiness is still polling when the worker dies
    await rig.sys.slots[1].close();
    const handle = await rig.start({ ...SMALL_RUN, data: { mode: 'append-day' } });
    await rig.waitFor(handle, (step) => step === 'waiting-for-standby');
    await new Promise((r) => setTimeout(r, 1000));
    await killProcess(rig.processes.find((p) => p.name.startsWith('serving-'))!);
    await rig.spawnServingWorker('2');
    await restartSlot(1);
    const result = (await handle.result()) as RetrainAndDeployResult;
    expect(result).toMatchObject({ outcome: 'deployed', slot: standby.name });
    const answers = rig.tracker!.all();
    // nothing was ever answered by a version that was not ready: every answer
    // before the switch came from slot A, none failed
    expect(answers.every((a) => a.result.outcome === 'scored')).toBe(true);
  });

  it('3: standby slot stopped during readiness: the run fails after its deadline, the active slot keeps serving', async () => {
    const active = rig.sys.config.slots[1]; // after case 2, slot B is active; the standby is A
    const standby = rig.sys.config.slots[0];
    await rig.sys.slots[0].close();
    const before = rig.tracker!.stats().answered;
    const handle = await rig.start({ ...SMALL_RUN, data: { mode: 'append-day' }, readinessTimeoutSeconds: 15 });
    const err = await handle.result().catch((e: unknown) => e);
    expect(failureMessages(err)).toMatch(
      new RegExp(`standby slot ${standby.name} did not serve version \\d+: .*before the deadline.*the active slot keeps serving`),
    );
    const status = await handle.query('status');
    expect(status).toMatchObject({ outcome: 'failed' });
    // the exported version was removed again; requests went on being answered by the active slot
    const version = (status as { version: number }).version;
    expect(await listVersions(rig.sys.minio, rig.sys.config.buckets.models, standby.name)).not.toContain(version);
    await new Promise((r) => setTimeout(r, 1000));
    const stats = rig.tracker!.stats(5000);
    expect(stats.answered).toBeGreaterThan(before);
    expect(stats.errors).toBe(0);
    const recent = rig.tracker!.all().slice(-20);
    expect(recent.every((a) => a.result.model.slot === active.name)).toBe(true);
    await restartSlot(0);
    const summary = await rig.stopTraffic();
    expect(rig.tracker!.stats()).toMatchObject({ sent: summary!.sent, answered: summary!.sent, pending: 0, errors: 0 });
  });
});
