/**
 * Scores the ACTIVE model (its exported SavedModel in MinIO, found through
 * the registry's active entry; read-only) on the candidate's held-out split,
 * so the gate compares both models on the same customers and products.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { HoldoutSplit } from '../ml/holdout';
import { rankHoldout } from '../ml/evaluate';
import { SavedModelScorer } from '../ml/saved-model-scorer';
import { readDeploymentState, registryLocation } from '../store/registry';
import { downloadVersion } from '../store';
import type { ActiveOnSameSplit } from '../workflows/gate';
import type { ActivityDeps } from './deps';

export type SameSplitResult = { activeOnSameSplit: ActiveOnSameSplit } | { activeOnSameSplitUnavailable: string } | Record<string, never>;

/** {} without an active model; otherwise its same-split HR@10/NDCG@10, or why it could not be scored. */
export async function scoreActiveOnSplit(
  deps: ActivityDeps,
  split: HoldoutSplit,
  heartbeat: (detail: unknown) => void,
): Promise<SameSplitResult> {
  const { active } = await readDeploymentState(deps.minio, registryLocation(deps.config));
  if (!active) return {};
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), `active-${active.version}-`));
  try {
    // claimed, complete and byte-checked against its claim, as a slot loads it
    await downloadVersion(deps.minio, deps.config.buckets.models, active.slot, active.version, dir);
    const scorer = await SavedModelScorer.load(dir, split.train.productRows);
    try {
      const e = await rankHoldout(split, (users) => scorer.score(users), {
        onProgress: (p) => p.kind === 'evaluate' && heartbeat({ scoringActive: active.version, scored: p.scored, users: p.users }),
      });
      return { activeOnSameSplit: { version: active.version, hitRate10: e.hr10, ndcg10: e.ndcg10 } };
    } finally {
      scorer.dispose();
    }
  } catch (error) {
    // e.g. the active tables are smaller than the candidate's ids (new customers or products): the gate falls back to stored metrics
    return {
      activeOnSameSplitUnavailable: `active v${active.version} could not be scored on this split: ${(error as Error).message.split('\n')[0]}`,
    };
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}
