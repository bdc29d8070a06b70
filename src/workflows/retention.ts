/**
 * Retention as a workflow of its own (run by its own Schedule): one activity
 * that prunes the model store under the deploy lock, or skips when a deploy
 * holds it. History carries only the counts and removed names.
 */
import { proxyActivities } from '@temporalio/workflow';

export interface RetentionInput {
  /** newest versions kept per slot (besides the active and standby ones) */
  keepVersions?: number;
  /** staging prefixes of crashed publishes older than this are removed */
  stagingOlderThanHours?: number;
  dryRun?: boolean;
}

interface RetentionActivities {
  applyRetention(options: { keepVersions: number; stagingOlderThanHours: number; dryRun?: boolean }): Promise<unknown>;
}

const { applyRetention } = proxyActivities<RetentionActivities>({
  startToCloseTimeout: '10 minutes',
  retry: { maximumAttempts: 3 },
});

export async function retention(input: RetentionInput = {}): Promise<unknown> {
  const keepVersions = input.keepVersions ?? 3;
  const stagingOlderThanHours = input.stagingOlderThanHours ?? 24;
  if (!Number.isSafeInteger(keepVersions) || keepVersions < 1)
    throw new Error(`keepVersions must be a positive integer, got ${keepVersions}`);
  return applyRetention({ keepVersions, stagingOlderThanHours, dryRun: input.dryRun });
}
