/**
 * Fault 8: a model that scores worse than the active one (the seed's
 * regression recipe after an implicit-feedback model) is rejected by the gate
 * and never reaches a slot.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDescriptors } from '../../src/messaging/model-descriptors';
import { readDeploymentState, registryLocation } from '../../src/store/registry';
import { listVersions } from '../../src/store';
import type { RetrainAndDeployResult } from '../../src/workflows/types';
import { FaultRig, SMALL_RUN } from './harness';

let rig: FaultRig;
beforeAll(async () => {
  rig = await FaultRig.create({ inProcessWorkers: true });
});
afterAll(async () => {
  await rig?.close();
});

describe('fault 8: a worse model', () => {
  it('is rejected by the gate and never reaches a slot', async () => {
    const good = (await (await rig.start({ ...SMALL_RUN, gate: {} })).result()) as RetrainAndDeployResult;
    expect(good.outcome).toBe('deployed');
    const before = await readDeploymentState(rig.sys.minio, registryLocation(rig.sys.config));
    const worse = (await // no popularity margin: this run checks the comparison with the active model (the margin has its own tests)
    (
      await rig.start({
        ...SMALL_RUN,
        data: { mode: 'existing' },
        training: { objective: 'seed', epochs: 2 },
        gate: { popularityMargin: 0 },
      })
    ).result()) as RetrainAndDeployResult;
    expect(worse.outcome).toBe('rejected');
    expect(worse.reason).toMatch(/worse than the active model's/);
    const after = await readDeploymentState(rig.sys.minio, registryLocation(rig.sys.config));
    expect(after.history).toEqual(before.history);
    for (const slot of rig.sys.config.slots) {
      expect(Math.max(0, ...(await listVersions(rig.sys.minio, rig.sys.config.buckets.models, slot.name)))).toBeLessThanOrEqual(
        good.version!,
      );
    }
    expect((await readDescriptors(rig.sys.kafka, rig.sys.config.topics.models)).map((d) => d.key)).toEqual([
      `${good.slot}/${good.version}`,
    ]);
  });
});
