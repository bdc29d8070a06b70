/**
 * The deploy lease's terms, pure so that workflow code can read them too
 * (src/store/lease.ts holds the lease itself).
 */

/** A deploy's lease life; its holder renews it while it works (src/activities/lease-renewal.ts) and before each long step. */
export const DEPLOY_LEASE_TTL_SECONDS = 300;

/** Retention holds the lease for one pruning pass; a crashed pass frees it by expiry. */
export const RETENTION_LEASE_TTL_SECONDS = 600;
