/**
 * What retention may remove from one slot: every version directory (and
 * stale staging prefix) except the newest `keep` claimed versions and the
 * versions in `protect` (the registry's active and standby versions, and
 * anything a running deploy holds). Claims stay, so numbers are never reused.
 */
import type { Client } from 'minio';
import { listClaimedVersions, listVersions, removeStaleStaging } from './publish';
import { removeVersion } from './versions';

export interface SlotRetention {
  slot: string;
  /** newest versions kept regardless of state */
  keep: number;
  /** versions never removed */
  protect: readonly number[];
  /** staging prefixes older than this are removed */
  stagingOlderThanMs: number;
  dryRun?: boolean;
}

export interface SlotRetentionReport {
  slot: string;
  removedVersions: number[];
  removedStaging: string[];
}

export async function applySlotRetention(client: Client, bucket: string, r: SlotRetention): Promise<SlotRetentionReport> {
  if (!Number.isSafeInteger(r.keep) || r.keep < 1) throw new Error(`keep must be a positive integer, got ${r.keep}`);
  const claimed = await listClaimedVersions(client, bucket, r.slot);
  const kept = new Set([...claimed.slice(-r.keep), ...r.protect]);
  const newestClaim = claimed.at(-1) ?? 0;
  // an unclaimed directory newer than every claim may be a publish in progress: left alone
  const doomed = (await listVersions(client, bucket, r.slot)).filter((v) => !kept.has(v) && v < newestClaim);
  if (!r.dryRun) for (const v of doomed) await removeVersion(client, bucket, r.slot, v);
  const removedStaging = r.dryRun ? [] : await removeStaleStaging(client, bucket, r.slot, r.stagingOlderThanMs);
  return { slot: r.slot, removedVersions: doomed, removedStaging };
}
