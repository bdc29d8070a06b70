/**
 * The online evaluator's checkpoints in the models bucket (keys:
 * ./layout.ts): per partition of the co-partitioned topics, a small head
 * object holding the offsets to resume from on each of the three topics,
 * the fronts, the figures per version and the list of the state chunks
 * that hold the rest of the join state (src/evaluation/state-chunks.ts).
 * Chunks are immutable objects under keys unique to their write, written
 * first; the head is written last in one conditional PUT — so offsets,
 * state and figures never disagree (a head only lists chunks that exist
 * before it does), and a second evaluator owning the same partition (a
 * zombie) loses its write instead of overwriting (docs/design.md,
 * "Quality out"). MinIO is the source of truth for where to resume, not
 * Kafka's committed offsets. Schema 1 checkpoints (the whole state in one
 * object) still load.
 *
 * The figures of a version are the sum of its figures in every partition's
 * checkpoint (onlineFigures, onlineFiguresOf).
 */
import type { Client } from 'minio';
import type { Config } from '../config';
import { randomBytes } from 'node:crypto';
import type { JoinSnapshot, JoinSummary, StateEntries, TopicRole } from '../evaluation/join-state';
import { emptyVersion, mergeFigures, type Figures, type VersionFigures } from '../evaluation/figures';
import { decodeChunk, type ChunkRef } from '../evaluation/state-chunks';
import { getObjectBuffer, isNotFound, listKeys, removeKeys } from '../storage/objects';
import { onlineCheckpointKey, onlineCheckpointPartition, onlineChunkKey, onlineChunkPrefix, onlineGroupPrefix } from './layout';
import { readFullHistory, type OnlineRecord, type RegistryLocation } from './registry';
import { readVersioned, writeIfUnchanged } from './versioned-object';

export const CHECKPOINT_SCHEMA = 2;
/** the whole partition state in the one object (still read; rewritten as schema 2 by the next checkpoint) */
const WHOLE_STATE_SCHEMA = 1;

/** Where the configured evaluator group's checkpoints live (the models bucket). */
export function onlineStoreFor(client: Client, cfg: Pick<Config, 'buckets' | 'evaluator'>): OnlineStore {
  return { client, bucket: cfg.buckets.models, group: cfg.evaluator.groupId };
}

export interface OnlineStore {
  client: Client;
  bucket: string;
  /** the evaluator's consumer group: each group keeps its own checkpoints */
  group: string;
}

/** A checkpoint's head: everything but the state's entries, which are in the chunks it lists. */
export interface Checkpoint {
  schema: typeof CHECKPOINT_SCHEMA;
  partition: number;
  /** the topics the offsets belong to */
  topics: Record<TopicRole, string>;
  /** the next offset to read on each topic's partition (decimal strings: int64) */
  offsets: Record<TopicRole, string>;
  state: JoinSummary;
  /** the state chunks, in order of their ranges (none: no entries) */
  chunks?: ChunkRef[];
  writtenAt: string;
}

export interface StoredCheckpoint {
  checkpoint: Checkpoint;
  etag: string;
  /** a schema 1 checkpoint's whole state (its head lists no chunks) */
  wholeState?: JoinSnapshot;
}

function parseCheckpoint(body: Buffer, where: string, store: OnlineStore): Checkpoint & { wholeState?: JoinSnapshot } {
  let doc: Omit<Checkpoint, 'schema'> & { schema: number };
  try {
    doc = JSON.parse(body.toString('utf8')) as typeof doc;
  } catch (err) {
    throw new Error(`${where} is not valid JSON: ${(err as Error).message}`);
  }
  if (doc.schema !== CHECKPOINT_SCHEMA && doc.schema !== WHOLE_STATE_SCHEMA)
    throw new Error(
      `${where}: unknown checkpoint schema ${JSON.stringify(doc.schema)} (this evaluator reads ${WHOLE_STATE_SCHEMA} and ${CHECKPOINT_SCHEMA})`,
    );
  if (!doc.state || !doc.offsets) throw new Error(`${where}: no state or offsets`);
  if (doc.schema === WHOLE_STATE_SCHEMA) return { ...doc, schema: CHECKPOINT_SCHEMA, chunks: [], wholeState: doc.state as JoinSnapshot };
  const prefix = onlineChunkPrefix(store.group, doc.partition);
  const stray = (doc.chunks ?? []).find((c) => typeof c.key !== 'string' || !c.key.startsWith(prefix));
  if (stray) throw new Error(`${where}: state chunk ${JSON.stringify(stray.key)} is not under ${prefix}`);
  return doc as Checkpoint;
}

/** A partition's checkpoint head with its ETag, or undefined before the first. */
export async function readCheckpoint(store: OnlineStore, partition: number): Promise<StoredCheckpoint | undefined> {
  const key = onlineCheckpointKey(store.group, partition);
  const v = await readVersioned(store.client, store.bucket, key);
  if (!v) return undefined;
  const { wholeState, ...checkpoint } = parseCheckpoint(v.body, `${store.bucket}/${key}`, store);
  return { checkpoint, etag: v.etag, ...(wholeState && { wholeState }) };
}

/**
 * Writes a head if the stored one is still `etag` (null: none yet); the new
 * ETag, or undefined when another writer got there first. Its chunks must be
 * written before (writeChunks). Only the summary of `state` is written.
 */
export async function writeCheckpoint(store: OnlineStore, checkpoint: Checkpoint, etag: string | null): Promise<string | undefined> {
  const key = onlineCheckpointKey(store.group, checkpoint.partition);
  const { fronts, figures, records, purchases, idle } = checkpoint.state;
  const front = (role: TopicRole) => ({ front: fronts[role].front });
  const head: Checkpoint = {
    ...checkpoint,
    state: {
      fronts: { results: front('results'), shadows: front('shadows'), purchases: front('purchases') },
      figures,
      records,
      purchases,
      ...(idle && { idle }),
    },
    chunks: checkpoint.chunks ?? [],
  };
  return writeIfUnchanged(store.client, store.bucket, key, Buffer.from(JSON.stringify(head)), etag);
}

/** A new, unique key for a state chunk of `partition` (a chunk is written once, never overwritten). */
export function newChunkKey(store: OnlineStore, partition: number): string {
  return onlineChunkKey(store.group, partition, `c${Date.now().toString(36)}-${randomBytes(6).toString('hex')}`);
}

/** Writes state chunks (before the head that lists them), a few at a time. */
export async function writeChunks(store: OnlineStore, bodies: readonly { key: string; body: Buffer }[]): Promise<void> {
  for (let i = 0; i < bodies.length; i += 4)
    await Promise.all(
      bodies
        .slice(i, i + 4)
        .map((b) => store.client.putObject(store.bucket, b.key, b.body, b.body.length, { 'Content-Type': 'application/json' })),
    );
}

/** Removes state chunks no head lists any more (garbage: a failure leaves them for the next owner's sweep). */
export async function removeChunks(store: OnlineStore, keys: readonly string[]): Promise<void> {
  await removeKeys(store.client, store.bucket, keys);
}

/** The keys of every state chunk of a partition, listed or not. */
export async function listChunks(store: OnlineStore, partition: number): Promise<string[]> {
  return listKeys(store.client, store.bucket, onlineChunkPrefix(store.group, partition));
}

/** A chunk a head lists is gone: a newer head replaced it while this one was read (read the head again). */
export class ChunkGone extends Error {}

/** The entries of a head's chunks, in its order. */
export async function readChunks(store: OnlineStore, checkpoint: Checkpoint): Promise<StateEntries[]> {
  const chunks = checkpoint.chunks ?? [];
  const out: StateEntries[] = [];
  for (let i = 0; i < chunks.length; i += 8) {
    const read = chunks.slice(i, i + 8).map(async ({ key }) => {
      const body = await getObjectBuffer(store.client, store.bucket, key).catch((err: unknown) => {
        throw isNotFound(err) ? new ChunkGone(`state chunk ${store.bucket}/${key} is gone`) : err;
      });
      return decodeChunk(body, `${store.bucket}/${key}`);
    });
    out.push(...(await Promise.all(read)));
  }
  return out;
}

/** Every partition's checkpoint head of the group, by partition. */
export async function readCheckpoints(store: OnlineStore): Promise<Checkpoint[]> {
  // not recursive: the state chunks' folders are not listed
  const keys = await listKeys(store.client, store.bucket, onlineGroupPrefix(store.group), false);
  const partitions = keys.map(onlineCheckpointPartition).filter((p): p is number => p !== undefined);
  const read = await Promise.all(partitions.sort((a, b) => a - b).map((p) => readCheckpoint(store, p)));
  return read.filter((c): c is StoredCheckpoint => c !== undefined).map((c) => c.checkpoint);
}

/** The group's figures per version: the sum over its partitions' checkpoints. */
export async function onlineFigures(store: OnlineStore): Promise<Figures> {
  const figures: Figures = {};
  for (const c of await readCheckpoints(store)) mergeFigures(figures, c.state.figures);
  return figures;
}

/** One version's online figures (zero counts when it served nothing yet). */
export async function onlineFiguresOf(store: OnlineStore, slot: string, version: number): Promise<VersionFigures> {
  const all = await onlineFigures(store);
  return Object.values(all).find((f) => f.slot === slot && f.version === version) ?? emptyVersion(slot, version);
}

/**
 * Before `next` is recorded as the active deployment: the online figures of
 * the deployment it replaces (docs/design.md, "Quality out"), when the
 * evaluator group has any for it, for recordDeployment to write on that
 * record in the same (fenced) registry write. Undefined once `next` is the
 * newest record itself (a retried commit).
 */
export async function replacedOnlineFigures(
  store: OnlineStore,
  loc: RegistryLocation,
  next: { slot: string; version: number },
): Promise<OnlineRecord | undefined> {
  const active = (await readFullHistory(store.client, loc)).at(-1);
  if (!active || (active.slot === next.slot && active.version === next.version)) return undefined;
  const figures = await onlineFiguresOf(store, active.slot, active.version);
  if (figures.requests === 0) return undefined; // no evaluator ran, or it saw none of its answers
  return { group: store.group, recordedAt: new Date().toISOString(), figures };
}
