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
import { readLineageMetadata } from '../store/lineage';
import { popularityRanking } from '../ml/popularity';
import { downloadVersion } from '../store';
import type { ActiveOnSameSplit } from '../workflows/gate';
import type { TrainDeps } from './deps';
import { dataKeys, readHistory } from './data';

export type SameSplitResult = { activeOnSameSplit: ActiveOnSameSplit } | { activeOnSameSplitUnavailable: string } | Record<string, never>;

/** {} without an active model; otherwise its same-split HR@10/NDCG@10, or why it could not be scored. */
export async function scoreActiveOnSplit(
  deps: TrainDeps,
  split: HoldoutSplit,
  heartbeat: (detail: unknown) => void,
): Promise<SameSplitResult> {
  const { active } = await readDeploymentState(deps.minio, registryLocation(deps.config));
  if (!active) return {};
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), `active-${active.version}-`));
  try {
    // claimed, complete and byte-checked against its claim, as a slot loads it
    await downloadVersion(deps.minio, deps.config.buckets.models, active.slot, active.version, dir);
    const lineage = await activeLineage(deps, active.slot, active.version);
    const tables = lineage.tables;
    const scorer = await SavedModelScorer.load(dir, tables?.productRows ?? split.train.productRows);
    const own = await withoutOwnBoost(deps, lineage, (users) => scorer.score(users), tables?.productRows ?? split.train.productRows);
    const score = tables ? withinTables(own, tables, split.train.productRows, popularityRanking(split.train).order) : own;
    try {
      const e = await rankHoldout(split, score, {
        onProgress: (p) => p.kind === 'evaluate' && heartbeat({ scoringActive: active.version, scored: p.scored, users: p.users }),
      });
      return { activeOnSameSplit: { version: active.version, hitRate10: e.hr10, ndcg10: e.ndcg10 } };
    } finally {
      scorer.dispose();
    }
  } catch (error) {
    // e.g. a model without its table sizes in its lineage, scored on newer ids: the gate falls back to stored metrics
    return {
      activeOnSameSplitUnavailable: `active v${active.version} could not be scored on this split: ${(error as Error).message.split('\n')[0]}`,
    };
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

interface Tables {
  userRows: number;
  productRows: number;
}

interface ActiveLineage {
  /** its table sizes (undefined when not recorded) */
  tables?: Tables;
  /** the history it was trained on */
  history?: { bucket?: string; key?: string };
  /** what its served scores add to a customer's own products (src/ml/linear/repeat-boost.ts) */
  repeatBoost?: RepeatBoostRecord;
}

/** A model's repeat boost as its lineage metadata records it (written by activities/train.ts). */
export interface RepeatBoostRecord {
  beta: number;
  alpha: number;
  /** pairs of its training history that its served user rows leave out (its evaluation's held-out products) */
  heldOut?: { users: number[]; products: number[] };
}

/** The active model's lineage metadata: table sizes, history, repeat boost. */
async function activeLineage(deps: TrainDeps, slot: string, version: number): Promise<ActiveLineage> {
  const meta = (await readLineageMetadata(deps.minio, deps.config.buckets.models, slot, version)) as
    (Partial<Tables> & Omit<ActiveLineage, 'tables'>) | undefined;
  const ok = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) > 0;
  const tables = meta && ok(meta.userRows) && ok(meta.productRows) ? { userRows: meta.userRows, productRows: meta.productRows } : undefined;
  return { tables, history: meta?.history, repeatBoost: meta?.repeatBoost };
}

/**
 * The active model's scores without its repeat boost. The gate ranks each
 * customer's held-out product among those the candidate's training part
 * does not hold; the active model may have been trained on that very
 * purchase, and its boost would put it first: a leak, not quality. Taking
 * β·x̃ off its own products (from the history it was trained on) leaves the
 * item-item scores, as the candidate is measured.
 */
async function withoutOwnBoost(
  deps: TrainDeps,
  lineage: ActiveLineage,
  score: (users: Int32Array) => Float32Array,
  P: number,
): Promise<(users: Int32Array) => Float32Array> {
  const boost = lineage.repeatBoost;
  if (!boost || !boost.beta) return score;
  const { bucket, key } = lineage.history ?? {};
  if (!bucket || !key) throw new Error('its lineage names no training history: its repeat boost cannot be taken off');
  if (!boost.heldOut)
    throw new Error('its lineage does not say which purchases its served rows leave out: its repeat boost cannot be taken off');
  const { history } = await readHistory(deps, { ...dataKeys(deps), bucket, transactions: key });
  // its served rows hold its training part: the history without its evaluation's held-out products
  const heldOut = new Map(boost.heldOut.users.map((u, i) => [u, boost.heldOut!.products[i]]));
  return (users) => {
    const out = score(users);
    users.forEach((u, i) => {
      if (u >= history.userRows) return;
      for (let k = history.userOffsets[u]; k < history.userOffsets[u + 1]; k++) {
        const p = history.products[k];
        if (p < P && heldOut.get(u) !== p) out[i * P + p] -= boost.beta * (1 + boost.alpha * Math.log(history.counts[k]));
      }
    });
    return out;
  };
}

/**
 * Scores customers × the candidate's P products with a model whose tables
 * are smaller (the history grew since it was trained, e.g. streamed
 * purchases): products it never saw rank last (−∞), and customers it never
 * saw get the popularity order, which is what serving answers them (the
 * popularity fallback). `score` returns [users, tables.productRows].
 */
export function withinTables(
  score: (users: Int32Array) => Float32Array,
  tables: Tables,
  P: number,
  popularOrder: Int32Array,
): (users: Int32Array) => Float32Array {
  const popular = new Float32Array(P).fill(Number.NEGATIVE_INFINITY);
  popularOrder.forEach((p, i) => (popular[p] = P - i));
  const Pa = Math.min(tables.productRows, P);
  return (users) => {
    const known = users.filter((u) => u < tables.userRows);
    const scored = known.length ? score(known) : new Float32Array(0);
    const out = new Float32Array(users.length * P);
    let k = 0;
    users.forEach((u, i) => {
      if (u >= tables.userRows) return out.set(popular, i * P);
      out.set(scored.subarray(k * tables.productRows, k * tables.productRows + Pa), i * P);
      out.fill(Number.NEGATIVE_INFINITY, i * P + Pa, (i + 1) * P);
      k++;
    });
    return out;
  };
}
