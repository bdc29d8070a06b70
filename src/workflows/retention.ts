/**
 * Retention as a workflow of its own (run by its own Schedule, `recommender
 * retention create`): one activity that prunes the model store under the
 * deploy lock, or skips when a deploy holds it. History carries only the
 * counts and removed names.
 */
import { ApplicationFailure, patched, proxyActivities, setCurrentDetails, type ActivityOptions } from '@temporalio/workflow';
import { parseRetentionInput } from './input-schema';
import { describeRetention, renderRetentionDetails, resolveRetentionOptions } from './retention-plan';
import type { TrainingActivities } from './activity-interfaces';
import type { RetentionInput, RetentionOptions, RetentionReport } from './types';
import { FailureType } from '../failure-types';

/** Retention's activity is hosted by the training worker with the others. */
type RetentionActivities = Pick<TrainingActivities, 'applyRetention'>;

const activityOptions: ActivityOptions = {
  startToCloseTimeout: '10 minutes',
  retry: { maximumAttempts: 3, nonRetryableErrorTypes: [FailureType.BadInput] },
};

export async function retention(input: RetentionInput = {}): Promise<RetentionReport> {
  // runs recorded before the schema (and candidate and lineage retention) go on as they were
  if (!patched('retention-input-schema')) return legacyRetention(input);
  let options: Required<RetentionOptions>;
  try {
    options = resolveRetentionOptions(parseRetentionInput(input));
  } catch (err) {
    setCurrentDetails(`### Done: **failed**\n\n${(err as Error).message}`);
    throw ApplicationFailure.nonRetryable((err as Error).message, FailureType.BadInput);
  }
  setCurrentDetails(renderRetentionDetails(options));
  const { applyRetention } = proxyActivities<RetentionActivities>({ ...activityOptions, summary: describeRetention(options) });
  const report = await applyRetention(options);
  setCurrentDetails(renderRetentionDetails(options, report));
  return report;
}

const legacy = proxyActivities<RetentionActivities>({ startToCloseTimeout: '10 minutes', retry: { maximumAttempts: 3 } });

async function legacyRetention(input: RetentionInput): Promise<RetentionReport> {
  const keepVersions = input.keepVersions ?? 3;
  const stagingOlderThanHours = input.stagingOlderThanHours ?? 24;
  if (!Number.isSafeInteger(keepVersions) || keepVersions < 1)
    throw new Error(`keepVersions must be a positive integer, got ${keepVersions}`);
  return legacy.applyRetention({ keepVersions, stagingOlderThanHours, dryRun: input.dryRun });
}
