/**
 * Retention activity: prunes the model store. Under the deploy lock (the
 * same lease deploys use, through tryAcquire/release) for the slots: old
 * versions (never the registry's active version, the standby slot's last
 * deployed one, or the newest `keepVersions`), stale staging and lineage
 * beyond `keepLineage`; it SKIPS the run when a deploy holds the lock, so a
 * deploy's versions and registry writes are never raced. Then, with the
 * lock released, candidates older than the cut-off whose run Temporal says
 * is no longer running (a running run's candidate stays, whatever its age),
 * and ingested segments already folded into the newest compacted history.
 */
import { Context } from '@temporalio/activity';
import { applySlotRetention, removeOldCandidates } from '../store';
import { describeHolder } from '../store/lease';
import { RETENTION_LEASE_TTL_SECONDS } from '../store/lease-terms';
import { readDeploymentState, registryLocation } from '../store/registry';
import { CANDIDATES_PREFIX, LINEAGE_ROOT } from '../store/layout';
import type { CandidateRetentionResult, RetentionOptions, RetentionReport, SlotRetentionResult } from '../workflows/types';
import { leaseOf, type ActivityDeps } from './deps';
import { applySegmentRetention } from '../store/segment-retention';

const segmentStoreOf = (deps: ActivityDeps) => ({
  client: deps.minio,
  bucket: deps.config.buckets.data,
  dataPrefix: deps.config.dataPrefix,
  topic: deps.config.purchases.topic,
});
import { callingRun, holderLiveness } from './registry';

export type { RetentionOptions, RetentionReport } from '../workflows/types';

const HOUR_MS = 3_600_000;

/** `candidatesPrefix`: where candidates are looked for (tests prune a private prefix of the shared bucket). */
export function retentionActivities(deps: ActivityDeps, { candidatesPrefix = CANDIDATES_PREFIX }: { candidatesPrefix?: string } = {}) {
  const loc = registryLocation(deps.config);
  return {
    async applyRetention(options: RetentionOptions): Promise<RetentionReport> {
      const ctx = Context.current();
      const holder = callingRun();
      const lease = leaseOf(deps);
      // Never breaks a live deploy's lease (only an expired one); held for the few seconds the pruning takes.
      const attempt = await lease.acquire(holder, { ttlMs: RETENTION_LEASE_TTL_SECONDS * 1000, liveness: async () => 'running' });
      if (!attempt.acquired) return { skipped: true, heldBy: describeHolder(attempt.heldBy.holder) };
      const slots: SlotRetentionResult[] = [];
      try {
        const state = await readDeploymentState(deps.minio, loc);
        const protect = (slot: string): number[] => {
          const last = [...state.history].reverse().find((d) => d.slot === slot);
          const active = state.active?.slot === slot ? [state.active.version] : [];
          return [...active, ...(last ? [last.version] : [])];
        };
        for (const slot of loc.slots) {
          slots.push(
            await applySlotRetention(deps.minio, loc.modelsBucket, {
              slot,
              keep: options.keepVersions,
              protect: protect(slot),
              stagingOlderThanMs: options.stagingOlderThanHours * HOUR_MS,
              ...(options.keepLineage !== undefined && { lineage: { prefix: LINEAGE_ROOT, keep: options.keepLineage } }),
              dryRun: options.dryRun,
            }),
          );
          ctx.heartbeat({ slot });
        }
      } finally {
        await lease.release(holder);
      }
      let candidates: CandidateRetentionResult | undefined;
      if (options.candidatesOlderThanHours !== undefined) {
        const liveness = holderLiveness(deps);
        candidates = await removeOldCandidates(deps.minio, loc.modelsBucket, {
          prefix: candidatesPrefix,
          olderThanMs: options.candidatesOlderThanHours * HOUR_MS,
          inUse: async (run) => (await liveness(run)) !== 'gone',
          dryRun: options.dryRun,
        });
      }
      // ingested segments: data bucket only, no deploy lock needed (store/segment-retention.ts)
      const segments =
        options.segmentsOlderThanHours === undefined
          ? undefined
          : await applySegmentRetention(segmentStoreOf(deps), {
              olderThanMs: options.segmentsOlderThanHours * HOUR_MS,
              dryRun: options.dryRun,
            });
      return {
        skipped: false,
        ...(options.dryRun && { dryRun: true }),
        slots,
        ...(candidates && { candidates }),
        ...(segments && { segments }),
      };
    },
  };
}
