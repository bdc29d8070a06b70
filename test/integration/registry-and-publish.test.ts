import { randomUUID } from 'node:crypto';
import { Partitioners } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config';
import { createKafka } from '../../src/messaging/kafka';
import { publishDescriptorOnce, readDescriptors } from '../../src/messaging/model-descriptors';
import { encodeDescriptor } from '../../src/messaging/schemas';
import {
  RECENT_DEPLOYMENTS,
  readDeploymentState,
  readFullHistory,
  recordDeployment,
  type RegistryLocation,
} from '../../src/store/registry';
import { removeVersion } from '../../src/store';
import { listVersions } from '../../src/store';
import { createMinioClient } from '../../src/storage/minio-client';
import { getOptionalObject, listKeys } from '../../src/storage/objects';
import { metrics } from '../workflows/fake-activities';

const cfg = loadConfig();
const minio = createMinioClient(cfg.minio);
const kafka = createKafka(cfg.kafka, '-test');
const run = randomUUID().slice(0, 8);
// Own slot names and data prefix: the real registry and slots stay untouched.
const loc: RegistryLocation = {
  modelsBucket: cfg.buckets.models,
  registryKey: `test-${run}/deployments.json`,
  dataBucket: cfg.buckets.data,
  dataPrefix: `test-${run}`,
  slots: [`blue-${run}`, `green-${run}`],
};

afterAll(async () => {
  for (const prefix of [`${loc.slots[0]}/`, `${loc.slots[1]}/`]) {
    const keys = await listKeys(minio, loc.modelsBucket, prefix);
    if (keys.length) await minio.removeObjects(loc.modelsBucket, keys);
  }
  await minio.removeObject(loc.dataBucket, `${loc.dataPrefix}/directory.txt`);
});

describe('deployment registry in MinIO', () => {
  it('finds the largest version across both slots, and the standby slot', async () => {
    const registry = { ...loc, modelsBucket: cfg.buckets.models };
    await minio.putObject(loc.modelsBucket, `${loc.slots[1]}/7/saved_model.pb`, Buffer.from('x'));
    await minio.putObject(loc.modelsBucket, `${loc.slots[1]}/_staging-8-abc/saved_model.pb`, Buffer.from('x'));
    expect(await listVersions(minio, loc.modelsBucket, loc.slots[1])).toEqual([7]);
    const state = await readDeploymentState(minio, registry);
    expect(state.maxVersion).toBeGreaterThanOrEqual(7);
    expect(await removeVersion(minio, loc.modelsBucket, loc.slots[1], 7)).toBe(1);
    expect(await listVersions(minio, loc.modelsBucket, loc.slots[1])).toEqual([]);
  });

  it('records deployments idempotently and keeps directory.txt on the standby slot', async () => {
    try {
      const d = {
        slot: loc.slots[0],
        version: 90_001,
        url: 'http://x',
        metrics: metrics(0.3),
        kind: 'deploy' as const,
        workflowId: 'w',
        runId: `r-${run}`,
        deployedAt: new Date().toISOString(),
      };
      const first = await recordDeployment(minio, loc, d);
      const again = await recordDeployment(minio, loc, d);
      expect(first.active).toMatchObject({ slot: loc.slots[0], version: 90_001 });
      expect(again.history.length).toBe(first.history.length);
      expect(first.standbySlot).toBe(loc.slots[1]);
      expect((await getOptionalObject(minio, loc.dataBucket, `${loc.dataPrefix}/directory.txt`))?.toString()).toBe(loc.slots[1]);
    } finally {
      await minio.removeObject(loc.modelsBucket, loc.registryKey);
    }
  });
});

describe('deployment registry: bounded state, conditional writes', () => {
  const deployment = (i: number, runId = `r-${run}`) => ({
    slot: loc.slots[i % 2],
    version: i,
    url: `http://127.0.0.1:8501/v1/models/${loc.slots[i % 2]}/versions/${i}:predict`,
    metrics: { ...metrics(0.3), protocol: 'leave-one-out: last purchase per customer held out, full ranking over all products' },
    kind: 'deploy' as const,
    workflowId: `recommender-retrain-${i}`,
    runId,
    deployedAt: new Date(1_800_000_000_000 + i * 3_600_000).toISOString(),
  });

  it('hands the workflow under 256 KB after 5,000 recorded deployments, and keeps all of them in MinIO', async () => {
    try {
      const history = Array.from({ length: 4_999 }, (_, i) => deployment(i + 1));
      await minio.putObject(loc.modelsBucket, loc.registryKey, Buffer.from(JSON.stringify({ history })));
      const after = await recordDeployment(minio, loc, deployment(5_000));
      const state = await readDeploymentState(minio, loc);
      const bytes = Buffer.byteLength(JSON.stringify(state));
      console.log(
        `getDeploymentState after 5,000 deployments: ${bytes} bytes (full registry ${Buffer.byteLength(JSON.stringify({ history: await readFullHistory(minio, loc) }))} bytes)`,
      );
      expect(bytes).toBeLessThan(256 * 1024);
      expect(Buffer.byteLength(JSON.stringify(after))).toBeLessThan(256 * 1024);
      expect(state).toMatchObject({ active: { version: 5_000 }, recorded: 5_000, maxVersion: 5_000, standbySlot: loc.slots[1] });
      expect(state.history).toHaveLength(RECENT_DEPLOYMENTS);
      expect(state.history.at(0)?.version).toBe(5_001 - RECENT_DEPLOYMENTS);
      expect(await readFullHistory(minio, loc)).toHaveLength(5_000);
    } finally {
      await minio.removeObject(loc.modelsBucket, loc.registryKey);
    }
  });

  it('loses no deployment when writers overlap: the conditional write makes the loser re-read and append', async () => {
    try {
      await Promise.all(Array.from({ length: 6 }, (_, i) => recordDeployment(minio, loc, deployment(100 + i, `race-${i}`))));
      const history = await readFullHistory(minio, loc);
      expect(history.map((d) => d.version).sort()).toEqual([100, 101, 102, 103, 104, 105]);
    } finally {
      await minio.removeObject(loc.modelsBucket, loc.registryKey);
    }
  });
});

describe('model URL publication on Kafka', () => {
  it('publishes a key once, however often it is retried, and refuses a different URL for it', async () => {
    const topic = `models-test-${run}`;
    const url = `http://127.0.0.1:8502/v1/models/recommender1/versions/7:predict`;
    const d = { name: 'recommender1', description: 'v7', url, publisher: 'retrain/run-1' };
    const first = await publishDescriptorOnce(kafka, topic, 'recommender1/7', d);
    const second = await publishDescriptorOnce(kafka, topic, 'recommender1/7', d);
    expect(first.published).toBe(true);
    expect(second).toMatchObject({ published: false, offset: first.offset });
    await expect(publishDescriptorOnce(kafka, topic, 'recommender1/7', { ...d, url: 'http://other' })).rejects.toThrow(
      /already published with another URL/,
    );
    await publishDescriptorOnce(kafka, topic, 'recommender/8', { ...d, name: 'recommender', url: 'http://v8' });
    const all = await readDescriptors(kafka, topic);
    expect(all.map((x) => x.key)).toEqual(['recommender1/7', 'recommender/8']);
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [topic] });
    await admin.disconnect();
  });

  it('recognises only its own record as already published: a key squatted ahead of the deploy does not stop its publish (issue 24, item 1)', async () => {
    const topic = `models-squat-${run}`;
    const url = `http://127.0.0.1:8502/v1/models/recommender1/versions/9:predict`;
    // written ahead of time by someone who can write to the topic: the same key and URL, without the run's identity
    const squatter = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await squatter.connect();
    await squatter.send({
      topic,
      acks: -1,
      messages: [
        { key: 'recommender1/9', value: encodeDescriptor({ name: 'recommender1', description: 'forged', url }) },
        {
          key: 'recommender1/9',
          value: encodeDescriptor({ name: 'recommender1', description: 'forged', url: 'http://other', publisher: 'x/y' }),
        },
      ],
    });
    await squatter.disconnect();
    const own = { name: 'recommender1', description: 'v9', url, publisher: 'retrain/run-9' };
    const first = await publishDescriptorOnce(kafka, topic, 'recommender1/9', own);
    expect(first).toMatchObject({ published: true, offset: '2' });
    expect(await publishDescriptorOnce(kafka, topic, 'recommender1/9', own)).toMatchObject({ published: false, offset: '2' });
    const all = await readDescriptors(kafka, topic);
    expect(all.map((x) => x.descriptor.publisher ?? '')).toEqual(['', 'x/y', 'retrain/run-9']);
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [topic] });
    await admin.disconnect();
  });
});
