/**
 * One partition's checkpoint, loaded and written (docs/design.md, "Quality
 * out", crash safety): the head names the state chunks, which are written
 * before it under keys of their own, so that a head never lists a chunk
 * that does not exist; the head is written on the ETag it was loaded at,
 * so a zombie owner loses; chunks are removed only when no head can list
 * them any more.
 */
import {
  CHECKPOINT_SCHEMA,
  ChunkGone,
  listChunks,
  newChunkKey,
  readCheckpoint,
  readChunks,
  removeChunks,
  writeCheckpoint,
  writeChunks,
  type Checkpoint,
  type OnlineStore,
} from '../store/online-figures';
import { PartitionJoin, TOPIC_ROLES, type JoinRules, type TopicRole } from './join-state';
import { CHUNK_TARGET, planChunks, type ChunkPlan, type ChunkRef } from './state-chunks';

export interface PartitionState {
  partition: number;
  join: PartitionJoin;
  /** the next offset to read of each topic's partition */
  next: Record<TopicRole, bigint>;
  /** the head's ETag as loaded or last written (null: no head yet) */
  etag: string | null;
  /** the state chunks its head lists */
  chunks: ChunkRef[];
  /** chunks no head listed when it was loaded: removed once its own first head is written (then no other writer can list them) */
  orphans: string[];
}

async function loadOnce(
  store: OnlineStore,
  topics: Record<TopicRole, string>,
  rules: JoinRules,
  partition: number,
): Promise<PartitionState> {
  const stored = await readCheckpoint(store, partition);
  const c = stored?.checkpoint;
  const mismatch = c && TOPIC_ROLES.find((r) => c.topics[r] !== topics[r]);
  if (mismatch) {
    // its offsets are another topic's: resuming from them would skip or repeat records
    throw new Error(
      `checkpoint of partition ${partition} (group ${store.group}) is for ${mismatch} topic ${c.topics[mismatch]}, not ${topics[mismatch]}: use another EVALUATOR_GROUP for other topics`,
    );
  }
  let join = new PartitionJoin(rules);
  // a schema 1 checkpoint: every entry counts as changed, so the next checkpoint writes them all into chunks
  if (stored?.wholeState) join = PartitionJoin.restore(rules, stored.wholeState);
  else if (c) {
    join = PartitionJoin.restoreParts(rules, c.state, await readChunks(store, c));
    join.takeTouched(); // its chunks hold it
  }
  const listed = new Set((c?.chunks ?? []).map((k) => k.key));
  const orphans = (await listChunks(store, partition)).filter((k) => !listed.has(k));
  const next = { results: 0n, shadows: 0n, purchases: 0n };
  for (const role of TOPIC_ROLES) if (c) next[role] = BigInt(c.offsets[role]);
  return { partition, join, next, etag: stored?.etag ?? null, chunks: c?.chunks ?? [], orphans };
}

/** A partition as its checkpoint left it (a new one before the first). */
export async function loadPartition(
  store: OnlineStore,
  topics: Record<TopicRole, string>,
  rules: JoinRules,
  partition: number,
): Promise<PartitionState> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await loadOnce(store, topics, rules, partition);
    } catch (err) {
      // a newer head replaced a chunk while this one was read: read the newer head
      if (!(err instanceof ChunkGone) || attempt >= 5) throw err;
    }
  }
}

/** A checkpoint of this instant: the new chunks' bodies and the head, built synchronously. */
export interface PreparedCheckpoint {
  head: Checkpoint;
  plan: ChunkPlan;
  touched: Set<number>;
}

export function prepareCheckpoint(
  store: OnlineStore,
  topics: Record<TopicRole, string>,
  s: PartitionState,
  chunkTarget = CHUNK_TARGET,
): PreparedCheckpoint {
  const touched = s.join.takeTouched();
  const plan = planChunks(s.join, s.chunks, touched, () => newChunkKey(store, s.partition), chunkTarget);
  const head: Checkpoint = {
    schema: CHECKPOINT_SCHEMA,
    partition: s.partition,
    topics,
    offsets: { results: s.next.results.toString(), shadows: s.next.shadows.toString(), purchases: s.next.purchases.toString() },
    state: structuredClone(s.join.summary()),
    chunks: plan.chunks,
    writtenAt: new Date().toISOString(),
  };
  return { head, plan, touched };
}

export type CommitOutcome = { written: true; garbage: Promise<void> } | { written: false };

/**
 * Writes the chunks, then the head on the ETag it was loaded at. Lost (the
 * head moved on: another owner): this write's chunks are removed, nothing
 * else. Written: the chunks the old head listed and the new one does not,
 * and the orphans of the load, are garbage (`garbage` removes them). An
 * error leaves the state's changes to write again (`touched` given back).
 */
export async function commitCheckpoint(store: OnlineStore, s: PartitionState, p: PreparedCheckpoint): Promise<CommitOutcome> {
  const written = p.plan.bodies.map((b) => b.key);
  let headSent = false;
  try {
    await writeChunks(store, p.plan.bodies);
    headSent = true;
    const etag = await writeCheckpoint(store, p.head, s.etag);
    if (etag === undefined) {
      await removeChunks(store, written).catch(() => undefined); // no head lists them: this write was refused
      return { written: false };
    }
    s.etag = etag;
    s.chunks = p.plan.chunks;
    // no head can list these any more: the one that did is replaced, and no other writer can replace it too
    const garbage = [...p.plan.replaced, ...s.orphans.splice(0)];
    return { written: true, garbage: removeChunks(store, garbage) };
  } catch (err) {
    s.join.retouch(p.touched);
    // chunks of a head never sent are listed by none; after a sent one (its fate unknown) they may be
    if (!headSent) await removeChunks(store, written).catch(() => undefined);
    throw err;
  }
}
