/**
 * Keeps the calling run's deploy lease alive while one of its long
 * activities (export, publish, commit) works: renewed at the start and
 * every third of the lease's life. A run that does not hold the lease when
 * the activity starts renews nothing (runs recorded before the lease
 * existed). A run that held it and then loses it (it expired, judged on
 * another worker's clock, and another run took it) is stopped at once: the
 * activity fails with the non-retryable DeployLockLost instead of working
 * on under a lease it no longer has (its registry writes are fenced too).
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import { FailureType } from '../failure-types';
import { describeHolder } from '../store/lease';
import { DEPLOY_LEASE_TTL_SECONDS } from '../store/lease-terms';
import { callingRun } from './registry';
import { leaseOf, type ActivityDeps } from './deps';

export function renewingLease<A extends unknown[], R>(
  deps: Pick<ActivityDeps, 'config' | 'minio'>,
  activity: (...args: A) => Promise<R>,
  ttlMs = DEPLOY_LEASE_TTL_SECONDS * 1000,
) {
  const lease = leaseOf(deps);
  return async (...args: A): Promise<R> => {
    const holder = callingRun();
    const log = Context.current().log;
    if (!(await lease.renew(holder, ttlMs))) return activity(...args);
    let timer: NodeJS.Timeout | undefined;
    const lost = new Promise<never>((_, reject) => {
      timer = setInterval(() => {
        lease.renew(holder, ttlMs).then(
          (held) => {
            if (held) return;
            clearInterval(timer);
            const why = `this run (${describeHolder(holder)}) lost the deploy lease while working: it expired and another run took it; stopping`;
            reject(ApplicationFailure.nonRetryable(why, FailureType.DeployLockLost));
          },
          (err: unknown) => log.warn('could not renew the deploy lease', { error: String(err) }),
        );
      }, ttlMs / 3);
    });
    try {
      return await Promise.race([activity(...args), lost]);
    } finally {
      clearInterval(timer);
    }
  };
}
