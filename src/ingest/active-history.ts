/**
 * Where the data trigger counts new purchases from: the history the ACTIVE
 * model was trained on (its lineage's metadata names it; compaction keeps
 * each history's manifest beside it), so that a rejected run does not reset
 * the count. Falls back to the newest compacted history when the active
 * model's is not one of this data prefix's compacted histories (no model
 * yet, a model trained before lineage named its history, another prefix's
 * data, mode append-day).
 */
import type { Client } from 'minio';
import { readHistoryManifest, readHistoryRecord } from '../store/history-compaction';
import { compactedHistoryDigest } from '../store/layout';
import { readLineageMetadata } from '../store/lineage';
import { readDeploymentState, type RegistryLocation } from '../store/registry';
import type { SegmentStore } from '../store/segments';

export interface CountFrom {
  /** the history's inputs digest, or "none" before any compaction */
  digest: string;
  /** per partition: the offset after the last record it holds */
  partitions: Record<string, string>;
  /** the active model, when the count starts from its history */
  active?: { slot: string; version: number };
}

interface TrainedOn {
  history?: { bucket?: string; key?: string };
}

async function activeModelHistory(store: SegmentStore, models: Client, loc: RegistryLocation): Promise<CountFrom | undefined> {
  const { active } = await readDeploymentState(models, loc);
  if (!active) return undefined;
  const meta = (await readLineageMetadata(models, loc.modelsBucket, active.slot, active.version)) as TrainedOn | undefined;
  const key = meta?.history?.key;
  if (!key || meta?.history?.bucket !== store.bucket) return undefined;
  const digest = compactedHistoryDigest(store.dataPrefix, key);
  const record = digest ? await readHistoryRecord(store, digest) : undefined;
  if (!record || record.topic !== store.topic) return undefined;
  return { digest: record.inputsDigest, partitions: record.partitions, active: { slot: active.slot, version: active.version } };
}

/** The active model's history when known, else the newest compacted history. */
export async function countFrom(store: SegmentStore, models?: { client: Client; loc: RegistryLocation }): Promise<CountFrom> {
  const active = models && (await activeModelHistory(store, models.client, models.loc));
  if (active) return active;
  const manifest = await readHistoryManifest(store);
  return { digest: manifest?.inputsDigest ?? 'none', partitions: manifest?.partitions ?? {} };
}
