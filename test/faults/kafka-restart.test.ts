/**
 * Fault 4: restart Kafka while the client is sending. Delivery is
 * at-least-once; results carry the request id (topic:partition:offset), so
 * after deduplication by that id every request that Kafka acknowledged has
 * exactly one result.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, stopStack } from '../../src/process/local-stack';
import type { RetrainAndDeployResult } from '../../src/workflows/types';
import { FaultRig } from './harness';

let rig: FaultRig;
beforeAll(async () => {
  rig = await FaultRig.create({ inProcessWorkers: true });
  const first = (await (await rig.start()).result()) as RetrainAndDeployResult;
  expect(first.outcome).toBe('deployed');
  await rig.startTraffic(20);
}, 240_000);
afterAll(async () => {
  startStack(['kafka']); // whatever happened, leave the broker up for the next file
  await rig?.close();
});

describe('fault 4: Kafka restarted while the client sends', () => {
  it('answers every acknowledged request exactly once after deduplication', async () => {
    await new Promise((r) => setTimeout(r, 3000));
    const before = rig.tracker!.stats().sent;
    stopStack(['kafka']);
    await new Promise((r) => setTimeout(r, 3000));
    startStack(['kafka']);
    await new Promise((r) => setTimeout(r, 8000));
    const summary = await rig.stopTraffic(120_000);
    const stats = rig.tracker!.stats();
    expect(stats.sent).toBeGreaterThan(before); // the client kept sending after the restart
    expect(stats).toMatchObject({ sent: summary!.sent, answered: summary!.sent, pending: 0, errors: 0 });
    console.log(`kafka restart: sent ${stats.sent}, answered ${stats.answered}, duplicates dropped ${stats.duplicates}`);
  });
});
