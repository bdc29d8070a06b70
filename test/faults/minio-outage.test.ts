/**
 * Fault 5: stop MinIO while the run is exporting (or about to: the registry
 * read just before the export needs MinIO too). The activities retry; once
 * MinIO is back the run completes, and the version directory is complete —
 * no half-written version is ever loaded.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, stopStack } from '../../src/process/local-stack';
import { listKeys } from '../../src/storage/objects';
import type { RetrainAndDeployResult } from '../../src/workflows/types';
import { FaultRig, SMALL_RUN } from './harness';

let rig: FaultRig;
beforeAll(async () => {
  rig = await FaultRig.create({ inProcessWorkers: true });
});
afterAll(async () => {
  startStack(['minio']);
  await rig?.close();
});

describe('fault 5: MinIO stopped during export', () => {
  it('retries, completes after MinIO is back, with a complete version directory', async () => {
    const handle = await rig.start(SMALL_RUN);
    await rig.waitFor(handle, (step) => step === 'gating' || step === 'exporting', 180_000, 10);
    stopStack(['minio']);
    await new Promise((r) => setTimeout(r, 8000));
    startStack(['minio']);
    const result = (await handle.result()) as RetrainAndDeployResult;
    expect(result.outcome).toBe('deployed');

    const history = await handle.fetchHistory();
    const retried = history.events!.some((e) => (e.activityTaskStartedEventAttributes?.attempt ?? 1) > 1);
    expect(retried).toBe(true);
    const keys = await listKeys(rig.sys.minio, rig.sys.config.buckets.models, `${result.slot}/${result.version}/`);
    expect(keys.map((k) => k.split('/').slice(2).join('/')).sort()).toEqual([
      'assets.extra/tf_serving_warmup_requests',
      'saved_model.pb',
      'variables/variables.data-00000-of-00001',
      'variables/variables.index',
    ]);
    // the slot never saw a version it could not load
    const slot = rig.sys.slots.find((s) => s.manager.statusList().some((v) => v.version === result.version))!;
    expect(slot.manager.statusList().filter((v) => v.errorCode !== 'OK')).toEqual([]);
  });
});
