/**
 * The online evaluator's store on the real MinIO: checkpoints written
 * conditionally (a second writer of a partition loses), a version's figures
 * summed over partitions, and the registry's record of a replaced
 * deployment given its online figures.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config';
import { emptyVersion, type Figures } from '../../src/evaluation/figures';
import { PartitionJoin } from '../../src/evaluation/join-state';
import { createMinioClient } from '../../src/storage/minio-client';
import { onlineGroupPrefix } from '../../src/store/layout';
import { CHECKPOINT_SCHEMA, onlineFiguresOf, writeCheckpoint, type Checkpoint } from '../../src/store/online-figures';
import { readFullHistory, recordDeployment, recordOnlineFigures, type RegistryLocation } from '../../src/store/registry';
import { MockActivityEnvironment } from '@temporalio/testing';
import { registryActivities } from '../../src/activities/registry';
import { createKafka } from '../../src/messaging/kafka';
import { removePrefix } from '../helpers/minio';
import { metrics } from '../workflows/fake-activities';

const cfg = loadConfig();
const client = createMinioClient(cfg.minio);
const run = randomUUID().slice(0, 8);
const store = { client, bucket: cfg.buckets.models, group: `online-store-it-${run}` };
const loc: RegistryLocation = {
  modelsBucket: cfg.buckets.models,
  registryKey: `test-${run}/deployments.json`,
  dataBucket: cfg.buckets.data,
  dataPrefix: `test-${run}`,
  slots: [`blue-${run}`, `green-${run}`],
};

afterAll(async () => {
  await removePrefix(client, store.bucket, onlineGroupPrefix(store.group));
  await removePrefix(client, loc.modelsBucket, `test-${run}/`);
  await removePrefix(client, loc.dataBucket, `${loc.dataPrefix}/`);
});

function checkpoint(partition: number, figures: Figures): Checkpoint {
  const state = new PartitionJoin({ windowMs: 1, graceMs: 0, repeatHorizonMs: 0 }).snapshot();
  const topics = { results: 'r', shadows: 's', purchases: 'p' };
  return {
    schema: CHECKPOINT_SCHEMA,
    partition,
    topics,
    offsets: { results: '5', shadows: '6', purchases: '7' },
    state: { ...state, figures },
    writtenAt: '',
  };
}

function versionFigures(requests: number, followed: number, hits: number) {
  return { ...emptyVersion(loc.slots[0], 3), requests, followed, hits };
}

describe('online figures in the store', () => {
  it('checkpoints are conditional; a version is the sum over partitions; the replaced deployment records it', async () => {
    const label = `${loc.slots[0]}/3`;
    const first = await writeCheckpoint(store, checkpoint(0, { [label]: versionFigures(10, 4, 1) }), null);
    expect(first).toBeDefined();
    // a zombie that read no checkpoint, or an old one, loses its write
    expect(await writeCheckpoint(store, checkpoint(0, {}), null)).toBeUndefined();
    expect(await writeCheckpoint(store, checkpoint(0, { [label]: versionFigures(12, 5, 2) }), first!)).toBeDefined();
    expect(await writeCheckpoint(store, checkpoint(0, {}), first!)).toBeUndefined();
    await writeCheckpoint(store, checkpoint(1, { [label]: versionFigures(20, 8, 3) }), null);
    const figures = await onlineFiguresOf(store, loc.slots[0], 3);
    expect([figures.requests, figures.followed, figures.hits]).toEqual([32, 13, 5]);
    expect((await onlineFiguresOf(store, loc.slots[1], 9)).requests).toBe(0);

    const deployment = (slot: string, version: number) => ({
      slot,
      version,
      url: 'http://x',
      metrics: metrics(0.3),
      kind: 'deploy' as const,
      workflowId: 'w',
      runId: `r-${run}-${version}`,
      deployedAt: new Date().toISOString(),
    });
    await recordDeployment(client, loc, deployment(loc.slots[0], 3));
    await recordDeployment(client, loc, deployment(loc.slots[1], 4));
    const online = { group: store.group, recordedAt: new Date().toISOString(), figures };
    expect(await recordOnlineFigures(client, loc, online)).toBe(true);
    expect(await recordOnlineFigures(client, loc, { ...online, figures: emptyVersion(loc.slots[1], 99) })).toBe(false);
    const history = await readFullHistory(client, loc);
    expect(history.map((d) => d.online?.figures.requests)).toEqual([32, undefined]);
  });

  it('commitActiveSlot gives the deployment it replaces its online figures, once the evaluator has some', async () => {
    const env = {
      ...process.env,
      REGISTRY_KEY: `test-${run}/activity/deployments.json`,
      EVALUATOR_GROUP: `${store.group}-activity`,
      SLOT_NAMES: loc.slots.join(','),
      DATA_PREFIX: loc.dataPrefix,
    };
    const config = loadConfig(env);
    const acts = registryActivities({ config, minio: client, kafka: createKafka(config.kafka, '-test') });
    const commit = (slot: string, version: number) =>
      new MockActivityEnvironment().run(acts.commitActiveSlot, {
        slot,
        version,
        url: 'http://x',
        metrics: metrics(0.3),
        kind: 'deploy' as const,
      });
    const activityStore = { ...store, group: config.evaluator.groupId };
    try {
      await commit(loc.slots[0], 7); // nothing to replace
      await commit(loc.slots[1], 8); // replaces 7, which served nothing the evaluator saw: no figures
      await writeCheckpoint(
        activityStore,
        checkpoint(0, { [`${loc.slots[1]}/8`]: { ...emptyVersion(loc.slots[1], 8), requests: 40, followed: 9, hits: 4 } }),
        null,
      );
      await commit(loc.slots[0], 9); // replaces 8
      await commit(loc.slots[0], 9); // a retried activity: nothing replaced again
      const history = await readFullHistory(client, { ...loc, registryKey: config.registryKey });
      expect(history.map((d) => [d.version, d.online?.figures.requests, d.online?.figures.hits])).toEqual([
        [7, undefined, undefined],
        [8, 40, 4],
        [9, undefined, undefined],
      ]);
      expect(history[1].online?.group).toBe(config.evaluator.groupId);
    } finally {
      await removePrefix(client, store.bucket, onlineGroupPrefix(config.evaluator.groupId));
    }
  });
});
