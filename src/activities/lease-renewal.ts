/**
 * Keeps the calling run's deploy lease alive while one of its long
 * activities (export, publish, commit) works: renewed every third of the
 * lease's life. A run that does not hold the lease (or lost it) renews
 * nothing; the workflow's own renewDeployLock before publishing is the
 * check that it still holds it.
 */
import { Context } from '@temporalio/activity';
import { DEPLOY_LEASE_TTL_SECONDS } from '../store/lease-terms';
import { callingRun } from './registry';
import { leaseOf, type ActivityDeps } from './deps';

export function renewingLease<A extends unknown[], R>(
  deps: ActivityDeps,
  activity: (...args: A) => Promise<R>,
  ttlMs = DEPLOY_LEASE_TTL_SECONDS * 1000,
) {
  const lease = leaseOf(deps);
  return async (...args: A): Promise<R> => {
    const holder = callingRun();
    const log = Context.current().log;
    const timer = setInterval(() => {
      lease.renew(holder, ttlMs).catch((err: unknown) => log.warn('could not renew the deploy lease', { error: String(err) }));
    }, ttlMs / 3);
    try {
      return await activity(...args);
    } finally {
      clearInterval(timer);
    }
  };
}
