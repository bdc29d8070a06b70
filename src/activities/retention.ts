/**
 * Retention activity: prunes the model store of both slots, never the
 * registry's active version, the standby slot's last deployed version, or
 * the newest `keepVersions` of each slot. It takes the deploy lock (the same
 * lease deploys use, through tryAcquire/release) for the few seconds it
 * runs, and SKIPS the run when a deploy holds it: a deploy's versions and
 * registry writes are never raced.
 */
import { Context } from '@temporalio/activity';
import { applySlotRetention, type SlotRetentionReport } from '../model-store';
import { describeHolder, lockKey, release, tryAcquire, type Holder } from '../registry/deploy-lock';
import { readDeploymentState } from '../registry/deployments';
import { registryLocation, type ActivityDeps } from './deps';

export interface RetentionOptions {
  keepVersions: number;
  stagingOlderThanHours: number;
  dryRun?: boolean;
}

/** Long enough for a pruning pass; a crashed pass frees the lock by expiry. */
const RETENTION_LEASE_TTL_MS = 10 * 60_000;

export type RetentionReport = { skipped: true; heldBy: string } | { skipped: false; slots: SlotRetentionReport[] };

export function retentionActivities(deps: ActivityDeps) {
  const loc = registryLocation(deps.config);
  return {
    async applyRetention(options: RetentionOptions): Promise<RetentionReport> {
      const wf = Context.current().info.workflowExecution;
      const holder: Holder = { workflowId: wf?.workflowId ?? 'retention', runId: wf?.runId ?? 'unknown' };
      const key = lockKey(loc.registryKey);
      // Never breaks a live deploy's lease (only an expired one); held for the few seconds the pruning takes.
      const attempt = await tryAcquire(deps.minio, loc.modelsBucket, key, holder, {
        ttlMs: RETENTION_LEASE_TTL_MS,
        liveness: async () => 'running',
      });
      if (!attempt.acquired) return { skipped: true, heldBy: describeHolder(attempt.heldBy.holder) };
      try {
        const state = await readDeploymentState(deps.minio, loc);
        const protect = (slot: string): number[] => {
          const last = [...state.history].reverse().find((d) => d.slot === slot);
          return last ? [last.version] : [];
        };
        const slots: SlotRetentionReport[] = [];
        for (const slot of loc.slots) {
          slots.push(
            await applySlotRetention(deps.minio, loc.modelsBucket, {
              slot,
              keep: options.keepVersions,
              protect: protect(slot),
              stagingOlderThanMs: options.stagingOlderThanHours * 3_600_000,
              dryRun: options.dryRun,
            }),
          );
        }
        return { skipped: false, slots };
      } finally {
        await release(deps.minio, loc.modelsBucket, key, holder);
      }
    },
  };
}
