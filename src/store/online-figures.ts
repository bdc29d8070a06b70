/**
 * The online evaluator's checkpoints in the models bucket (keys:
 * ./layout.ts): one object per partition of the co-partitioned topics,
 * holding the offsets to resume from on each of the three topics, the
 * partition's join state and its figures per version, written together in
 * one conditional PUT — so offsets, state and figures never disagree, and a
 * second evaluator owning the same partition (a zombie) loses its write
 * instead of overwriting (docs/design.md, "Quality out"). MinIO is the
 * source of truth for where to resume, not Kafka's committed offsets.
 *
 * The figures of a version are the sum of its figures in every partition's
 * checkpoint (onlineFigures, onlineFiguresOf).
 */
import type { Client } from 'minio';
import type { Config } from '../config';
import type { JoinSnapshot, TopicRole } from '../evaluation/join-state';
import { emptyVersion, mergeFigures, type Figures, type VersionFigures } from '../evaluation/figures';
import { listKeys } from '../storage/objects';
import { onlineCheckpointKey, onlineCheckpointPartition, onlineGroupPrefix } from './layout';
import { readFullHistory, recordOnlineFigures, type RegistryLocation } from './registry';
import { readVersioned, writeIfUnchanged } from './versioned-object';

export const CHECKPOINT_SCHEMA = 1;

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

export interface Checkpoint {
  schema: typeof CHECKPOINT_SCHEMA;
  partition: number;
  /** the topics the offsets belong to */
  topics: Record<TopicRole, string>;
  /** the next offset to read on each topic's partition (decimal strings: int64) */
  offsets: Record<TopicRole, string>;
  state: JoinSnapshot;
  writtenAt: string;
}

export interface StoredCheckpoint {
  checkpoint: Checkpoint;
  etag: string;
}

function parseCheckpoint(body: Buffer, where: string): Checkpoint {
  let doc: Checkpoint;
  try {
    doc = JSON.parse(body.toString('utf8')) as Checkpoint;
  } catch (err) {
    throw new Error(`${where} is not valid JSON: ${(err as Error).message}`);
  }
  if (doc.schema !== CHECKPOINT_SCHEMA) throw new Error(`${where}: unknown checkpoint schema ${JSON.stringify(doc.schema)}`);
  if (!doc.state || !doc.offsets) throw new Error(`${where}: no state or offsets`);
  return doc;
}

/** A partition's checkpoint with its ETag, or undefined before the first. */
export async function readCheckpoint(store: OnlineStore, partition: number): Promise<StoredCheckpoint | undefined> {
  const key = onlineCheckpointKey(store.group, partition);
  const v = await readVersioned(store.client, store.bucket, key);
  return v ? { checkpoint: parseCheckpoint(v.body, `${store.bucket}/${key}`), etag: v.etag } : undefined;
}

/** Writes a checkpoint if the stored one is still `etag` (null: none yet); the new ETag, or undefined when another writer got there first. */
export async function writeCheckpoint(store: OnlineStore, checkpoint: Checkpoint, etag: string | null): Promise<string | undefined> {
  const key = onlineCheckpointKey(store.group, checkpoint.partition);
  return writeIfUnchanged(store.client, store.bucket, key, Buffer.from(JSON.stringify(checkpoint)), etag);
}

/** Every partition's checkpoint of the group, by partition. */
export async function readCheckpoints(store: OnlineStore): Promise<Checkpoint[]> {
  const keys = await listKeys(store.client, store.bucket, onlineGroupPrefix(store.group));
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
 * Before `next` is recorded as the active deployment: gives the deployment
 * it replaces its online figures (docs/design.md, "Quality out"), when the
 * evaluator group has any for it. Idempotent: once `next` is recorded it is
 * the newest record itself and nothing is replaced. Returns the replaced
 * version's figures when they were recorded.
 */
export async function recordReplacedOnlineFigures(
  store: OnlineStore,
  loc: RegistryLocation,
  next: { slot: string; version: number },
): Promise<VersionFigures | undefined> {
  const active = (await readFullHistory(store.client, loc)).at(-1);
  if (!active || (active.slot === next.slot && active.version === next.version)) return undefined;
  const figures = await onlineFiguresOf(store, active.slot, active.version);
  if (figures.requests === 0) return undefined; // no evaluator ran, or it saw none of its answers
  await recordOnlineFigures(store.client, loc, { group: store.group, recordedAt: new Date().toISOString(), figures });
  return figures;
}
