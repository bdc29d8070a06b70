/**
 * What retention may remove from the models bucket, and removes it:
 *   - of one slot: every version directory except the newest `keep` present
 *     versions and the versions in `protect` (the registry's active and
 *     standby versions, anything a deploy holds); staging prefixes of crashed
 *     publishes older than a cut-off; lineage records beyond the newest N;
 *   - candidates (`candidates/<workflowId>/<runId>/`) older than a cut-off
 *     whose run Temporal does not report as still running.
 * Claims stay, so version numbers are never reused. The caller holds the
 * deploy lock for the slot part (src/activities/retention.ts).
 */
import type { Client } from 'minio';
import { listDirectories, listObjects, removeKeys, type StoredObject } from '../storage/objects';
import { candidateRunOf, lineagePrefix, lineageSlotPrefix, validateSlotName, versionNumbers, versionPrefix } from './layout';
import { listClaimedVersions, listVersions, staleStaging } from './publish';
import { removeVersion } from './versions';

export interface SlotRetention {
  slot: string;
  /** newest present versions kept regardless of state */
  keep: number;
  /** versions never removed */
  protect: readonly number[];
  /** staging prefixes whose newest object is older than this are removed */
  stagingOlderThanMs: number;
  /** lineage records (`<prefix>/<slot>/<version>/`) of the newest `keep` versions and the protected ones stay; absent: lineage untouched */
  lineage?: { prefix: string; keep: number };
  dryRun?: boolean;
  /** epoch ms that ages are measured from (default: now) */
  now?: number;
}

export interface SlotRetentionReport {
  slot: string;
  keptVersions: number[];
  removedVersions: number[];
  removedStaging: string[];
  removedLineage: number[];
  /** bytes of the removed objects (what a dry run would remove) */
  removedBytes: number;
}

export interface CandidateRetention {
  /** e.g. `candidates/` */
  prefix: string;
  /** candidates whose newest object is older than this may be removed */
  olderThanMs: number;
  /** whether the run that trained a candidate may still need it; anything but a definite "no" keeps it */
  inUse: (run: { workflowId: string; runId: string }) => Promise<boolean>;
  dryRun?: boolean;
  now?: number;
  /** how many removed prefixes the report names (it goes into workflow history) */
  sampleSize?: number;
}

export interface CandidateRetentionReport {
  removed: number;
  removedBytes: number;
  /** old, but their run is running (or Temporal could not say) */
  keptInUse: number;
  /** younger than the cut-off */
  keptYoung: number;
  /** the first removed prefixes */
  sample: string[];
}

const positiveInt = (name: string, n: number): void => {
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got ${n}`);
};

const bytesOf = (objects: readonly StoredObject[]): number => objects.reduce((sum, o) => sum + o.size, 0);
const newest = (objects: readonly StoredObject[]): number => Math.max(0, ...objects.map((o) => o.lastModified.getTime()));

export async function applySlotRetention(client: Client, bucket: string, r: SlotRetention): Promise<SlotRetentionReport> {
  validateSlotName(r.slot);
  positiveInt('keep', r.keep);
  if (r.lineage) positiveInt('lineage.keep', r.lineage.keep);
  const now = r.now ?? Date.now();
  const claimed = await listClaimedVersions(client, bucket, r.slot);
  const claimedSet = new Set(claimed);
  const newestClaim = claimed.at(-1) ?? 0;
  const present = await listVersions(client, bucket, r.slot);
  // an unclaimed directory newer than every claim may be a publish in progress: never touched
  const settled = present.filter((v) => v <= newestClaim);
  // the newest N that are actually there (a failed run's removed version leaves only its claim)
  const kept = new Set([...settled.filter((v) => claimedSet.has(v)).slice(-r.keep), ...r.protect]);
  const doomed = settled.filter((v) => !kept.has(v));
  let removedBytes = 0;
  for (const v of doomed) {
    removedBytes += bytesOf(await listObjects(client, bucket, versionPrefix(r.slot, v)));
    if (!r.dryRun) await removeVersion(client, bucket, r.slot, v);
  }

  const removedStaging: string[] = [];
  for (const { prefix, objects } of await staleStaging(client, bucket, r.slot, now - r.stagingOlderThanMs)) {
    if (!r.dryRun)
      await removeKeys(
        client,
        bucket,
        objects.map((o) => o.key),
      );
    removedStaging.push(prefix);
    removedBytes += bytesOf(objects);
  }

  const removedLineage: number[] = [];
  if (r.lineage) {
    const records = versionNumbers(await listDirectories(client, bucket, lineageSlotPrefix(r.slot, r.lineage.prefix)));
    const keptLineage = new Set([...records.slice(-r.lineage.keep), ...r.protect]);
    for (const v of records.filter((x) => !keptLineage.has(x))) {
      const objects = await listObjects(client, bucket, lineagePrefix(r.slot, v, r.lineage.prefix));
      if (!r.dryRun)
        await removeKeys(
          client,
          bucket,
          objects.map((o) => o.key),
        );
      removedLineage.push(v);
      removedBytes += bytesOf(objects);
    }
  }
  return {
    slot: r.slot,
    keptVersions: settled.filter((v) => kept.has(v)),
    removedVersions: doomed,
    removedStaging,
    removedLineage,
    removedBytes,
  };
}

/**
 * Removes candidates older than the cut-off unless their run may still use
 * them. A candidate is the objects of one `<prefix><workflowId>/<runId>/`
 * (workflow ids may hold '/', run ids do not); its age is its newest object's.
 */
export async function removeOldCandidates(client: Client, bucket: string, r: CandidateRetention): Promise<CandidateRetentionReport> {
  if (!r.prefix.endsWith('/')) throw new Error(`candidate prefix must end with '/', got ${JSON.stringify(r.prefix)}`);
  const cutoff = (r.now ?? Date.now()) - r.olderThanMs;
  const groups = new Map<string, StoredObject[]>();
  for (const o of await listObjects(client, bucket, r.prefix)) {
    const cut = o.key.lastIndexOf('/');
    const dir = o.key.slice(0, cut + 1);
    const group = groups.get(dir);
    if (group) group.push(o);
    else groups.set(dir, [o]);
  }
  const report: CandidateRetentionReport = { removed: 0, removedBytes: 0, keptInUse: 0, keptYoung: 0, sample: [] };
  for (const [dir, objects] of [...groups].sort(([a], [b]) => a.localeCompare(b))) {
    if (newest(objects) >= cutoff) {
      report.keptYoung++;
      continue;
    }
    const run = candidateRunOf(r.prefix, dir);
    if (run && (await r.inUse(run))) {
      report.keptInUse++;
      continue;
    }
    if (!r.dryRun)
      await removeKeys(
        client,
        bucket,
        objects.map((o) => o.key),
      );
    report.removed++;
    report.removedBytes += bytesOf(objects);
    if (report.sample.length < (r.sampleSize ?? 10)) report.sample.push(dir);
  }
  return report;
}
