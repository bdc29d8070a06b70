/**
 * Fault 7: a malformed transactions.csv. Bad lines are reported (line number
 * and reason) and training goes on with the good ones; a file with no usable
 * line stops the run before anything is trained or published.
 */
import { WorkflowFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDescriptors } from '../../src/messaging/model-descriptors';
import { getOptionalObject } from '../../src/storage/objects';
import type { RetrainAndDeployResult } from '../../src/workflows/types';
import { failureMessages } from '../helpers/failures';
import { FaultRig, SMALL_RUN } from './harness';

let rig: FaultRig;
beforeAll(async () => {
  rig = await FaultRig.create({ inProcessWorkers: true });
  // publish generated history first
  expect(((await (await rig.start()).result()) as RetrainAndDeployResult).outcome).toBe('deployed');
}, 240_000);
afterAll(async () => {
  await rig?.close();
});

describe('fault 7: malformed purchase history', () => {
  it('reports bad CSV lines and trains on the good ones', async () => {
    const key = `${rig.sys.config.dataPrefix}/transactions.csv`;
    const good = (await getOptionalObject(rig.sys.minio, rig.sys.config.buckets.data, key))!.toString();
    const lines = good.trimEnd().split('\n');
    lines.splice(3, 0, 'abc,1|2', '5,', '7,3|x', '-1,4');
    await rig.sys.minio.putObject(rig.sys.config.buckets.data, key, Buffer.from(lines.join('\n') + '\n'));
    const result = (await (await rig.start({ ...SMALL_RUN, data: { mode: 'existing' } })).result()) as RetrainAndDeployResult;
    expect(result.outcome).toBe('deployed');
    expect(result.data!.badLines).toBe(4);
    expect(result.data!.badLineSamples[0]).toMatch(/^line 4: /);
  });

  it('stops before training or publishing when no line is usable', async () => {
    const key = `${rig.sys.config.dataPrefix}/transactions.csv`;
    await rig.sys.minio.putObject(rig.sys.config.buckets.data, key, Buffer.from('customerId,products\nx,y\n1,\n'));
    const before = (await readDescriptors(rig.sys.kafka, rig.sys.config.topics.models)).length;
    const err = await (await rig.start({ ...SMALL_RUN, data: { mode: 'existing' } })).result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect(failureMessages(err)).toMatch(/no usable rows/);
    expect((await readDescriptors(rig.sys.kafka, rig.sys.config.topics.models)).length).toBe(before);
  });
});
