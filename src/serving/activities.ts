/**
 * Activities that run next to serving, on the serving worker's task queue:
 * readiness of the standby slot (it must reach the slots' network).
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Config } from '../config';
import { ReadinessDeadlineError, VersionLoadFailedError, waitUntilServing } from './readiness';
import { FailureType } from '../failure-types';

/** What the workflow asks of the readiness check (it crosses workflow history: a reference, no data). */
export interface ReadinessInput {
  slot: string;
  version: number;
  /** epoch milliseconds after which the activity gives up, across retries */
  deadlineMs: number;
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
      try {
        const ready = await waitUntilServing({
          baseUrl: slot.baseUrl,
          api: config.readinessApi,
          grpcAddress: slot.grpcAddress,
          slot: input.slot,
          version: input.version,
          deadlineMs: input.deadlineMs,
          signal: ctx.cancellationSignal,
          onPoll: (poll) => ctx.heartbeat(poll),
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
