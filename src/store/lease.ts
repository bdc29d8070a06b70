/**
 * One deployment at a time, whoever starts the runs (schedule, CLI,
 * rollback): a lease object in the models bucket. Every change of it is a
 * conditional write on its ETag (see versioned-object.ts), so of two runs
 * that take, break or renew it at the same moment exactly one wins.
 *
 * A lease has an expiry that its holder renews while it works (from its
 * heartbeating activities). Another run may take it over only when
 *   - it was released, or
 *   - it expired (a stuck holder cannot block deploys for ever), or
 *   - Temporal answered definitely that the holder is no longer running
 *     (a transient error is no answer: the lease stands).
 *
 * Expiry is judged on each contender's own clock, so two runs may both
 * believe they hold it. Hence the fencing token: `generation` goes up by one
 * at every take-over; the holder carries the generation it took, and every
 * registry write checks it (src/store/registry.ts): a stale holder's write
 * is refused (LeaseFencedError).
 */
import type { Client } from 'minio';
import { leaseKey } from './layout';
import { DEPLOY_LEASE_TTL_SECONDS } from './lease-terms';
import { readVersioned, writeIfUnchanged } from './versioned-object';

/** A workflow run; ids may hold any character, '/' included. */
export interface Holder {
  workflowId: string;
  runId: string;
}

export interface Lease {
  /** null once released */
  holder: Holder | null;
  /** the fencing token: one more at every take-over by another holder (0 for leases written before it existed) */
  generation: number;
  acquiredAt: string;
  expiresAt: string;
  renewedAt?: string;
}

/** What Temporal says about a holder: only 'gone' breaks a live lease. */
export type Liveness = 'running' | 'gone' | 'unknown';

export type LockAttempt = { acquired: true; lease: Lease; brokeFrom?: Holder; why?: string } | { acquired: false; heldBy: Lease };

export interface AcquireOptions {
  /** default: the deploy lease's TTL */
  ttlMs?: number;
  liveness: (holder: Holder) => Promise<Liveness>;
}

const DEFAULT_TTL_MS = DEPLOY_LEASE_TTL_SECONDS * 1000;

export const sameHolder = (a: Holder | null | undefined, b: Holder) => !!a && a.workflowId === b.workflowId && a.runId === b.runId;

export const describeHolder = (h: Holder | null) => (h ? `${h.workflowId} (run ${h.runId})` : 'nobody');

function parseLease(body: Buffer, key: string): Lease {
  let raw: { holder?: unknown; generation?: unknown; acquiredAt?: unknown; expiresAt?: unknown; renewedAt?: unknown };
  try {
    raw = JSON.parse(body.toString('utf8')) as typeof raw;
  } catch (err) {
    throw new Error(`${key} is not valid JSON: ${(err as Error).message}`);
  }
  const acquiredAt = typeof raw.acquiredAt === 'string' ? raw.acquiredAt : new Date(0).toISOString();
  // leases written before expiries existed: "<workflowId>/<runId>", run ids hold no '/'
  let holder: Holder | null = null;
  if (typeof raw.holder === 'string') {
    const cut = raw.holder.lastIndexOf('/');
    holder = { workflowId: raw.holder.slice(0, cut), runId: raw.holder.slice(cut + 1) };
  } else if (raw.holder && typeof raw.holder === 'object') {
    holder = raw.holder as Holder;
  }
  const expiresAt = typeof raw.expiresAt === 'string' ? raw.expiresAt : new Date(Date.parse(acquiredAt) + DEFAULT_TTL_MS).toISOString();
  const generation = typeof raw.generation === 'number' && Number.isSafeInteger(raw.generation) ? raw.generation : 0;
  return { holder, generation, acquiredAt, expiresAt, ...(typeof raw.renewedAt === 'string' && { renewedAt: raw.renewedAt }) };
}

const encode = (lease: Lease) => Buffer.from(JSON.stringify(lease));

/** The lease as stored now (undefined when never taken). */
async function readLease(client: Client, bucket: string, key: string): Promise<Lease | undefined> {
  const v = await readVersioned(client, bucket, key);
  return v && parseLease(v.body, key);
}

/**
 * Takes the lease for `holder` (re-entrant: the holder taking it again renews
 * it), or reports who holds it. Each take-over is a conditional write on the
 * version that was judged, so a contender that judged an older version loses.
 */
async function tryAcquire(where: Where, holder: Holder, options: AcquireOptions): Promise<LockAttempt> {
  const { client, bucket, key, now } = where;
  const ttlMs = options.ttlMs ?? DEFAULT_TTL_MS;
  for (;;) {
    const current = await readVersioned(client, bucket, key);
    const lease = current && parseLease(current.body, key);
    let why: string | undefined;
    if (lease?.holder && !sameHolder(lease.holder, holder)) {
      if (Date.parse(lease.expiresAt) <= now()) why = `its lease expired at ${lease.expiresAt}`;
      else if ((await options.liveness(lease.holder)) === 'gone') why = 'it is no longer running';
      else return { acquired: false, heldBy: lease };
    }
    const t = now();
    const reentrant = sameHolder(lease?.holder, holder);
    const next: Lease = {
      holder,
      generation: reentrant ? lease!.generation : (lease?.generation ?? 0) + 1,
      acquiredAt: reentrant ? lease!.acquiredAt : new Date(t).toISOString(),
      expiresAt: new Date(t + ttlMs).toISOString(),
    };
    if (await writeIfUnchanged(client, bucket, key, encode(next), current ? current.etag : null)) {
      return { acquired: true, lease: next, ...(why && lease?.holder && { brokeFrom: lease.holder, why }) };
    }
    // another run changed the lease between our read and our write: judge again
  }
}

/**
 * Extends `holder`'s lease by `ttlMs` from now. False when it does not hold
 * it any more (released, or broken after it expired): the holder must stop.
 */
async function renew(where: Where, holder: Holder, ttlMs: number): Promise<boolean> {
  const { client, bucket, key, now } = where;
  for (;;) {
    const current = await readVersioned(client, bucket, key);
    const lease = current && parseLease(current.body, key);
    if (!current || !lease || !sameHolder(lease.holder, holder)) return false;
    const t = now();
    const next: Lease = { ...lease, expiresAt: new Date(t + ttlMs).toISOString(), renewedAt: new Date(t).toISOString() };
    if (await writeIfUnchanged(client, bucket, key, encode(next), current.etag)) return true;
  }
}

/** Releases the lease if `holder` has it; returns whether it did. */
async function release(where: Where, holder: Holder): Promise<boolean> {
  const { client, bucket, key, now } = where;
  for (;;) {
    const current = await readVersioned(client, bucket, key);
    const lease = current && parseLease(current.body, key);
    if (!current || !lease || !sameHolder(lease.holder, holder)) return false;
    const t = new Date(now()).toISOString();
    const next: Lease = { holder: null, generation: lease.generation, acquiredAt: lease.acquiredAt, expiresAt: t, renewedAt: t };
    if (await writeIfUnchanged(client, bucket, key, encode(next), current.etag)) return true;
  }
}

/** A registry write by a holder whose lease generation is not the current one (it expired and was taken over). */
export class LeaseFencedError extends Error {
  override readonly name = 'LeaseFencedError';
}

/**
 * Throws LeaseFencedError unless `holder` holds the lease at `generation`
 * now. Checked right before each fenced write (with the registry's own
 * record of the newest generation that wrote, see registry.ts).
 */
async function checkFence(where: Where, holder: Holder, generation: number): Promise<void> {
  const lease = await readLease(where.client, where.bucket, where.key);
  if (lease && sameHolder(lease.holder, holder) && lease.generation === generation) return;
  throw new LeaseFencedError(
    `the deploy lease of generation ${generation} is no longer held by ${describeHolder(holder)} ` +
      `(now generation ${lease?.generation ?? 'none'}, held by ${describeHolder(lease?.holder ?? null)}): its registry write is refused`,
  );
}

interface Where {
  client: Client;
  bucket: string;
  key: string;
  now: () => number;
}

/** The deploy lease: one object beside the registry, with one TTL. */
export interface DeployLease {
  readonly key: string;
  /** as stored now (undefined when never taken) */
  read(): Promise<Lease | undefined>;
  /**
   * Takes it for `holder` (re-entrant: taking it again renews it), or reports
   * who holds it; a live holder's lease is broken only when `liveness` says 'gone'.
   */
  acquire(holder: Holder, options: AcquireOptions): Promise<LockAttempt>;
  /** Extends `holder`'s lease by `ttlMs` from now; false when it does not hold it any more: the holder must stop. */
  renew(holder: Holder, ttlMs?: number): Promise<boolean>;
  /** Releases it if `holder` has it; returns whether it did. */
  release(holder: Holder): Promise<boolean>;
  /** Throws LeaseFencedError unless `holder` holds it at `generation` now. */
  checkFence(holder: Holder, generation: number): Promise<void>;
}

/** The lease beside the registry object `registryKey` in `bucket` (`now`: a test's clock). */
export function deployLease(client: Client, bucket: string, registryKey: string, now: () => number = Date.now): DeployLease {
  const where: Where = { client, bucket, key: leaseKey(registryKey), now };
  return {
    key: where.key,
    read: () => readLease(client, bucket, where.key),
    acquire: (holder, options) => tryAcquire(where, holder, options),
    renew: (holder, ttlMs = DEFAULT_TTL_MS) => renew(where, holder, ttlMs),
    release: (holder) => release(where, holder),
    checkFence: (holder, generation) => checkFence(where, holder, generation),
  };
}
