/**
 * Activities that run next to serving, on the serving worker's task queue:
 * readiness of the standby slot (it must reach the slots' network).
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Config } from '../config';
import { ReadinessDeadlineError, VersionLoadFailedError, waitUntilServing } from './readiness';
import { FailureType } from '../failure-types';
import { slotReplicas } from './replicas';

/** What the workflow asks of the readiness check (it crosses workflow history: a reference, no data). */
export interface ReadinessInput {
  slot: string;
  version: number;
  /**
   * How long to wait in all, across retries. A duration, measured by the
   * serving worker alone (the time each attempt waited, carried in its
   * heartbeats): no clock is compared with another machine's.
   */
  timeoutMs?: number;
  /**
   * Runs recorded before 'readiness-duration' (still in flight): epoch ms on
   * the workflow's clock, compared with this worker's, so their skew counts.
   */
  deadlineMs?: number;
}

/** A readiness heartbeat: the last poll and the time waited so far over every attempt. */
export interface ReadinessHeartbeat {
  polls: number;
  state: string;
  detail: string;
  waitedMs: number;
}

/** What the earlier attempts waited, from the last heartbeat they sent (0 on the first attempt). */
function waitedBefore(details: unknown): number {
  const waited = (details as Partial<ReadinessHeartbeat> | undefined)?.waitedMs;
  return typeof waited === 'number' && Number.isFinite(waited) && waited > 0 ? waited : 0;
}

/** This attempt's deadline on this worker's clock. */
function attemptDeadline(input: ReadinessInput, waited: number): number {
  if (input.timeoutMs !== undefined) return Date.now() + Math.max(0, input.timeoutMs - waited);
  if (input.deadlineMs !== undefined) return input.deadlineMs;
  throw ApplicationFailure.nonRetryable('waitForStandbyReady needs timeoutMs (or deadlineMs)', FailureType.BadInput);
}

/** What it answers: the URL to publish, how many polls it took and the smoke prediction's score. */
export interface ReadinessResult {
  slot: string;
  version: number;
  predictUrl: string;
  polls: number;
  smokePrediction: number;
}

export function servingActivities(config: Config) {
  return {
    async waitForStandbyReady(input: ReadinessInput): Promise<ReadinessResult> {
      const slot = config.slots.find((s) => s.name === input.slot);
      if (!slot) throw ApplicationFailure.nonRetryable(`unknown slot ${input.slot}`, FailureType.Config);
      const ctx = Context.current();
      const waited = waitedBefore(ctx.info.heartbeatDetails);
      const deadlineMs = attemptDeadline(input, waited);
      const started = performance.now();
      try {
        const ready = await waitUntilServing({
          baseUrl: slot.baseUrl,
          api: config.readinessApi,
          grpcAddress: slot.grpcAddress,
          replicas: () => slotReplicas(slot, config.slotReplicasHost),
          slot: input.slot,
          version: input.version,
          deadlineMs,
          signal: ctx.cancellationSignal,
          onPoll: (poll) =>
            ctx.heartbeat({ ...poll, waitedMs: Math.round(waited + performance.now() - started) } satisfies ReadinessHeartbeat),
        });
        return { slot: input.slot, version: input.version, ...ready };
      } catch (err) {
        if (err instanceof ReadinessDeadlineError || err instanceof VersionLoadFailedError) {
          throw ApplicationFailure.nonRetryable(err.message, err.name);
        }
        throw err;
      }
    },
  };
}
