/**
 * Retraining on data: once `retrainAfter` records have been ingested since
 * the history the active model was trained on (src/ingest/active-history.ts;
 * the newest compacted history when that is unknown), the retrain Schedule
 * is triggered (overlap SKIP, so the run appears under the Schedule) — once
 * per crossing (each multiple of `retrainAfter` since that history, so a
 * run the gate rejects is followed by the next one only after as many new
 * purchases again), by whichever publisher instance gets there first, also
 * across restarts: a marker object per crossing is claimed with a
 * conditional create before the trigger and marked triggered after it. A
 * claimant that died between the two is taken over once its claim is
 * `staleMs` old (so a crash there can at worst trigger twice, and the
 * second run is skipped while the first runs). While a run is going the
 * crossing waits (a trigger then would be skipped, and lost). Before the
 * trigger, the reason is left for the run to take (src/store/trigger-record.ts).
 */
import { ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import { readVersioned, writeIfUnchanged } from '../store/versioned-object';
import { retrainTriggerKey } from '../store/layout';
import { chainEnd, listSegments, segmentPartitions, type SegmentStore } from '../store/segments';
import { writePendingTrigger } from '../store/trigger-record';
import { countFrom, type CountFrom } from './active-history';

export interface TriggerMarker {
  sinceHistory: string;
  records: string;
  claimedAt: string;
  claimant: string;
  triggeredAt?: string;
  /** what the run's summary says, e.g. "12,400 new purchases since version 7" */
  text?: string;
}

export interface RetrainTriggerDeps {
  store: SegmentStore;
  /** records since the active model's history that trigger a run */
  retrainAfter: number;
  trigger: () => Promise<void>;
  /** true while a run of the schedule is going: the crossing waits for it */
  busy?: () => Promise<boolean>;
  /** where the count starts; default: the newest compacted history */
  since?: () => Promise<CountFrom>;
  claimant: string;
  staleMs?: number;
  now?: () => Date;
}

export type TriggerCheck = { outcome: 'below' | 'busy' | 'already' | 'triggered'; records: bigint; sinceHistory: string; text: string };

/** Records in the segment chains beyond the history's ends (dead letters and duplicates included). */
async function recordsSince(store: SegmentStore, from: CountFrom): Promise<bigint> {
  let records = 0n;
  for (const p of await segmentPartitions(store)) {
    const end = await chainEnd(store, await listSegments(store, p));
    const start = BigInt(from.partitions[String(p)] ?? '0');
    if (end > start) records += end - start;
  }
  return records;
}

// not toLocaleString: the same text wherever it runs
const grouped = (x: bigint) => x.toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');

function triggerText(records: bigint, from: CountFrom): string {
  const since = from.active
    ? `version ${from.active.version}`
    : from.digest === 'none'
      ? 'the starting history'
      : 'the last compacted history';
  return `${grouped(records)} new purchases since ${since}`;
}

const body = (m: TriggerMarker): Buffer => Buffer.from(JSON.stringify(m, null, 2));

export async function checkRetrainTrigger(deps: RetrainTriggerDeps): Promise<TriggerCheck> {
  const { store, now = () => new Date() } = deps;
  const from = await (deps.since ?? (() => countFrom(store)))();
  const records = await recordsSince(store, from);
  const text = triggerText(records, from);
  const result = (outcome: TriggerCheck['outcome']): TriggerCheck => ({ outcome, records, sinceHistory: from.digest, text });
  const crossing = records / BigInt(deps.retrainAfter);
  if (crossing < 1n) return result('below');
  if (await deps.busy?.()) return result('busy');
  const key = retrainTriggerKey(store.dataPrefix, from.digest, crossing);
  const current = await readVersioned(store.client, store.bucket, key);
  const claim: TriggerMarker = {
    sinceHistory: from.digest,
    records: records.toString(),
    claimedAt: now().toISOString(),
    claimant: deps.claimant,
    text,
  };
  if (current) {
    const marker = JSON.parse(current.body.toString('utf8')) as TriggerMarker;
    if (marker.triggeredAt || now().getTime() - Date.parse(marker.claimedAt) < (deps.staleMs ?? 60_000)) return result('already');
  }
  const etag = await writeIfUnchanged(store.client, store.bucket, key, body(claim), current?.etag ?? null);
  if (!etag) return result('already');
  await writePendingTrigger(store, { text, records: claim.records, sinceVersion: from.active?.version, writtenAt: now().toISOString() });
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
