/**
 * Timeouts and retry policies of each activity, in one place, with the
 * reasoning: a retry must be safe (every activity is idempotent) and a stuck
 * worker must be noticed (heartbeats) long before a step's overall limit.
 */
import { patched, type ActivityOptions } from '@temporalio/workflow';
import { NON_RETRYABLE_FAILURES, NON_RETRYABLE_READINESS_FAILURES } from '../failure-types';

const nonRetryableErrorTypes = [...NON_RETRYABLE_FAILURES];

/** The deploy lease's life; renewed while its holder works (activities/lease-renewal.ts). */
export { DEPLOY_LEASE_TTL_SECONDS } from '../store/lease-terms';

export const refreshDataOptions: ActivityOptions = {
  startToCloseTimeout: '20m',
  heartbeatTimeout: '1m',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '1m', maximumAttempts: 5, nonRetryableErrorTypes },
  summary: 'refresh purchase history in MinIO',
};

export const trainModelOptions: ActivityOptions = {
  // Training heartbeats every epoch and every few hundred batches; a killed
  // worker is detected by the heartbeat timeout and the attempt retried elsewhere.
  startToCloseTimeout: '3h',
  heartbeatTimeout: '60s',
  retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '2m', maximumAttempts: 4, nonRetryableErrorTypes },
  summary: 'train the collaborative-filtering model',
};

export const registryOptions: ActivityOptions = {
  startToCloseTimeout: '1m',
  summary: 'read or update the deployment registry',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 20, nonRetryableErrorTypes },
};

export const exportOptions: ActivityOptions = {
  // MinIO may be briefly down: keep retrying for a while; the export is
  // idempotent for a given (slot, version, candidate digest).
  startToCloseTimeout: '20m',
  heartbeatTimeout: '1m',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 30, nonRetryableErrorTypes },
  summary: 'export the SavedModel to the standby slot',
};

export const publishOptions: ActivityOptions = {
  startToCloseTimeout: '2m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 30, nonRetryableErrorTypes },
  summary: 'publish the standby predict URL on Kafka',
};

/**
 * How long readiness may take, as the activity's input: a duration, which
 * the serving worker measures on its own clock (the workflow's clock and
 * the worker's may disagree). Runs recorded before it passed an epoch
 * deadline set on the workflow's clock, and replay so.
 */
export function readinessLimit(timeoutSeconds: number): { timeoutMs: number } | { deadlineMs: number } {
  return patched('readiness-duration') ? { timeoutMs: timeoutSeconds * 1000 } : { deadlineMs: Date.now() + timeoutSeconds * 1000 };
}

/** Readiness: the overall limit is passed in and enforced across retries. */
export function readinessOptions(taskQueue: string, timeoutSeconds: number): ActivityOptions {
  return {
    taskQueue,
    scheduleToCloseTimeout: `${timeoutSeconds + 60}s`,
    startToCloseTimeout: `${timeoutSeconds + 30}s`,
    heartbeatTimeout: '20s',
    retry: {
      initialInterval: '1s',
      backoffCoefficient: 2,
      maximumInterval: '10s',
      nonRetryableErrorTypes: [...NON_RETRYABLE_READINESS_FAILURES],
    },
    summary: 'wait until the standby slot serves the new version',
  };
}

/** Waiting for another run's deployment: retried with back-off for up to two hours. */
export const deployLockOptions: ActivityOptions = {
  startToCloseTimeout: '1m',
  scheduleToCloseTimeout: '2h',
  retry: { initialInterval: '2s', backoffCoefficient: 1.5, maximumInterval: '30s', nonRetryableErrorTypes },
  summary: 'wait for the deploy lock (one deployment at a time)',
};
