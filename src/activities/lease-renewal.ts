/**
 * Keeps the calling run's deploy lease alive while one of its long
 * activities (export, publish, commit) works: renewed every third of the
 * lease's life. A run that does not hold the lease (or lost it) renews
 * nothing; the workflow's own renewDeployLock before publishing is the
 * check that it still holds it.
 */
import { Context } from '@temporalio/activity';
import { DEFAULT_LEASE_TTL_MS, lockKey, renew } from '../registry/deploy-lock';
import { callingRun } from './registry';
import { registryLocation, type ActivityDeps } from './deps';

export function renewingLease<A extends unknown[], R>(
  deps: ActivityDeps,
  activity: (...args: A) => Promise<R>,
  ttlMs = DEFAULT_LEASE_TTL_MS,
) {
  const loc = registryLocation(deps.config);
  const key = lockKey(loc.registryKey);
  return async (...args: A): Promise<R> => {
    const holder = callingRun();
    const log = Context.current().log;
    const timer = setInterval(() => {
      renew(deps.minio, loc.modelsBucket, key, holder, ttlMs).catch((err: unknown) =>
        log.warn('could not renew the deploy lease', { error: String(err) }),
      );
    }, ttlMs / 3);
    try {
      return await activity(...args);
    } finally {
      clearInterval(timer);
    }
  };
}
