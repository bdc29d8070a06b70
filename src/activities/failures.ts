/**
 * The one mapping from the libraries' errors to Temporal failures: what no
 * retry can mend becomes a non-retryable ApplicationFailure of a type from
 * src/failure-types.ts; anything else is rethrown as it is (retried).
 */
import { ApplicationFailure } from '@temporalio/activity';
import { ZodError } from 'zod';
import { FailureType } from '../failure-types';
import { NoUsableRowsError } from '../ml';
import { LeaseFencedError } from '../store/lease';
import { describeIssues } from '../workflows/input-schema';

export function toActivityFailure(error: unknown): unknown {
  if (error instanceof ApplicationFailure) return error;
  // options the ML core's schema refuses (e.g. an objective it does not know) are as bad on the next attempt
  if (error instanceof ZodError)
    return ApplicationFailure.nonRetryable(`invalid training options: ${describeIssues(error)}`, FailureType.BadInput);
  if (error instanceof NoUsableRowsError) return ApplicationFailure.nonRetryable(error.message, FailureType.BadInput);
  // a stale lease holder: another run deploys now; no retry of this one may write
  if (error instanceof LeaseFencedError) return ApplicationFailure.nonRetryable(error.message, FailureType.DeployLockLost);
  return error;
}

/** Runs `work`, mapping its failure with toActivityFailure. */
export async function mappingFailures<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw toActivityFailure(error);
  }
}
