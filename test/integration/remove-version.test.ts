/**
 * removeModelVersion, the clean-up after a failed readiness check, never
 * removes a version whose URL reached Kafka (a publish whose acknowledgement
 * was lost): the model server may already be using it. Real MinIO and Kafka;
 * the activity runs in the SDK's activity test environment.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registryActivities } from '../../src/activities/registry';
import { publishDescriptorOnce, publisherOf } from '../../src/messaging/model-descriptors';
import { listVersions } from '../../src/store';
import { startTestSystem, type TestSystem } from '../helpers/system';

let sys: TestSystem;
beforeAll(async () => {
  sys = await startTestSystem({ withWorkers: false, slots: false });
});
afterAll(async () => {
  await sys?.stop();
});

describe('removeModelVersion', () => {
  it('removes an unpublished version and keeps one this run published (only its own record counts)', async () => {
    const { removeModelVersion } = registryActivities({ config: sys.config, minio: sys.minio, kafka: sys.kafka });
    const slot = sys.config.slots[0].name;
    for (const v of [1, 2, 3]) await sys.minio.putObject(sys.config.buckets.models, `${slot}/${v}/saved_model.pb`, Buffer.from('x'));
    const run = { workflowId: 'retrain-test', runId: 'run-1' };
    await publishDescriptorOnce(sys.kafka, sys.config.topics.models, `${slot}/2`, {
      name: slot,
      description: 'v2',
      url: 'http://x/v1/models/s/versions/2:predict',
      publisher: publisherOf(run),
    });
    // someone else's record under version 3's key (forged ahead of time) does not keep this run's failed version
    await publishDescriptorOnce(sys.kafka, sys.config.topics.models, `${slot}/3`, {
      name: slot,
      description: 'forged',
      url: 'http://x/v1/models/s/versions/3:predict',
      publisher: 'someone/else',
    });
    const env = new MockActivityEnvironment({ workflowExecution: run });
    expect(await env.run(removeModelVersion, { slot, version: 1 })).toEqual({ removed: 1 });
    expect(await env.run(removeModelVersion, { slot, version: 2 })).toEqual({ removed: 0 });
    expect(await env.run(removeModelVersion, { slot, version: 3 })).toEqual({ removed: 1 });
    expect(await listVersions(sys.minio, sys.config.buckets.models, slot)).toEqual([2]);
  });
});
