/**
 * Retraining on data: once `retrainAfter` records have been ingested since
 * the newest compacted history (the last run's data), the retrain Schedule
 * is triggered (overlap SKIP, so the run appears under the Schedule) — once
 * per history, by whichever publisher instance gets there first, also
 * across restarts: a marker object per history is claimed with a
 * conditional create before the trigger and marked triggered after it. A
 * claimant that died between the two is taken over once its claim is
 * `staleMs` old (so a crash there can at worst trigger twice, and the
 * second run is skipped while the first runs).
 */
import { ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import { readVersioned, writeIfUnchanged } from '../store/versioned-object';
import { readHistoryManifest } from '../store/history-compaction';
import { retrainTriggerKey } from '../store/layout';
import { chainEnd, listSegments, segmentPartitions, type SegmentStore } from '../store/segments';

export interface TriggerMarker {
  sinceHistory: string;
  records: string;
  claimedAt: string;
  claimant: string;
  triggeredAt?: string;
}

export interface RetrainTriggerDeps {
  store: SegmentStore;
  /** records since the newest history that trigger a run */
  retrainAfter: number;
  trigger: () => Promise<void>;
  /** true while a run of the schedule is going: the crossing waits for it (a trigger then would be skipped, and lost) */
  busy?: () => Promise<boolean>;
  claimant: string;
  staleMs?: number;
  now?: () => Date;
}

export type TriggerCheck = { outcome: 'below' | 'busy' | 'already' | 'triggered'; records: bigint; sinceHistory: string };

/** Records in the segment chains beyond the newest history's ends (dead letters and duplicates included). */
async function recordsSince(store: SegmentStore): Promise<{ records: bigint; sinceHistory: string }> {
  const manifest = await readHistoryManifest(store);
  let records = 0n;
  for (const p of await segmentPartitions(store)) {
    const end = await chainEnd(store, await listSegments(store, p));
    const from = BigInt(manifest?.partitions[String(p)] ?? '0');
    if (end > from) records += end - from;
  }
  return { records, sinceHistory: manifest?.inputsDigest ?? 'none' };
}

const body = (m: TriggerMarker): Buffer => Buffer.from(JSON.stringify(m, null, 2));

export async function checkRetrainTrigger(deps: RetrainTriggerDeps): Promise<TriggerCheck> {
  const { store, now = () => new Date() } = deps;
  const { records, sinceHistory } = await recordsSince(store);
  const result = (outcome: TriggerCheck['outcome']): TriggerCheck => ({ outcome, records, sinceHistory });
  if (records < BigInt(deps.retrainAfter)) return result('below');
  if (await deps.busy?.()) return result('busy');
  const key = retrainTriggerKey(store.dataPrefix, sinceHistory);
  const current = await readVersioned(store.client, store.bucket, key);
  const claim: TriggerMarker = { sinceHistory, records: records.toString(), claimedAt: now().toISOString(), claimant: deps.claimant };
  if (current) {
    const marker = JSON.parse(current.body.toString('utf8')) as TriggerMarker;
    if (marker.triggeredAt || now().getTime() - Date.parse(marker.claimedAt) < (deps.staleMs ?? 60_000)) return result('already');
  }
  const etag = await writeIfUnchanged(store.client, store.bucket, key, body(claim), current?.etag ?? null);
  if (!etag) return result('already');
  await deps.trigger();
  await writeIfUnchanged(store.client, store.bucket, key, body({ ...claim, triggeredAt: now().toISOString() }), etag);
  return result('triggered');
}

/** Whether the Schedule has a run going (its runs start one at a time: overlap SKIP). */
export const scheduleBusy = (client: Client, scheduleId: string) => async (): Promise<boolean> =>
  (await client.schedule.getHandle(scheduleId).describe()).info.runningActions.length > 0;

/** Triggers the Schedule now; a run still going makes this one skipped (overlap SKIP). */
export const scheduleTrigger = (client: Client, scheduleId: string) => (): Promise<void> =>
  client.schedule.getHandle(scheduleId).trigger(ScheduleOverlapPolicy.SKIP);
