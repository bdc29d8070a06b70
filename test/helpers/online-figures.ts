/**
 * Online figures as the online evaluator leaves them: a checkpoint of
 * partition 0 in the test system's own evaluator group (EVALUATOR_GROUP of
 * test/helpers/system.ts), for tests of what reads them (the rollback
 * policy, the retrain run's details, the web UI).
 */
import type { Client } from 'minio';
import type { Config } from '../../src/config';
import { emptyVersion, type Figures } from '../../src/evaluation/figures';
import { PartitionJoin } from '../../src/evaluation/join-state';
import { versionLabel } from '../../src/evaluation/records';
import { CHECKPOINT_SCHEMA, onlineStoreFor, readCheckpoint, writeCheckpoint } from '../../src/store/online-figures';

/** Replaces partition 0's checkpoint with one holding `figures` (throws when a concurrent writer won). */
export async function writeOnlineFigures(minio: Client, config: Config, figures: Figures): Promise<void> {
  const store = onlineStoreFor(minio, config);
  const previous = await readCheckpoint(store, 0);
  const state = new PartitionJoin({ windowMs: 60_000, graceMs: 0, repeatHorizonMs: 0 }).snapshot();
  state.figures = figures;
  const checkpoint = {
    schema: CHECKPOINT_SCHEMA,
    partition: 0,
    topics: { results: config.topics.results, shadows: config.topics.shadows, purchases: config.purchases.topic },
    offsets: { results: '0', shadows: '0', purchases: '0' },
    state,
    writtenAt: new Date().toISOString(),
  } as const;
  if (!(await writeCheckpoint(store, checkpoint, previous?.etag ?? null))) throw new Error('another writer replaced the checkpoint');
}

/**
 * A version's figures: `followed` purchases, `hits` of them hits; popularity's shadow on every one of them hit
 * half as often; with `previousHits`, the previous model's shadow on the same purchases hit that often (the model's
 * hits a subset of the shadow's, or the reverse).
 */
export function versionFigures(slot: string, version: number, followed: number, hits: number, previousHits?: number): Figures {
  const f = emptyVersion(slot, version);
  Object.assign(f, { requests: 2 * followed, followed, hits });
  const half = Math.round(hits / 2);
  f.shadows.popularity = {
    requests: 2 * followed,
    paired: followed,
    modelHits: hits,
    shadowHits: half,
    modelOnly: hits - half,
    shadowOnly: 0,
  };
  if (previousHits !== undefined) {
    const [modelOnly, shadowOnly] = previousHits >= hits ? [0, previousHits - hits] : [hits - previousHits, 0];
    f.shadows['previous-model'] = {
      requests: followed,
      paired: followed,
      modelHits: hits,
      shadowHits: previousHits,
      modelOnly,
      shadowOnly,
    };
  }
  return { [versionLabel(slot, version)]: f };
}
