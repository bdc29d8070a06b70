/**
 * One deployment at a time, whoever starts the runs: a lease object in the
 * models bucket, created with a conditional write (If-None-Match: *), so
 * exactly one run holds it. The Schedule's SKIP policy already keeps
 * scheduled runs apart; this also covers runs started by hand. A lease whose
 * holder is no longer running (terminated, timed out) may be broken by the
 * next run, which asks Temporal about the holder first.
 */
import path from 'node:path';
import type { Client } from 'minio';
import { getOptionalObject, putIfAbsent, removeKeys } from '../storage/objects';

export interface Lease {
  /** `<workflowId>/<runId>` of the run holding it */
  holder: string;
  acquiredAt: string;
}

export type LockAttempt = { acquired: true } | { acquired: false; heldBy: Lease };

export function lockKey(registryKey: string): string {
  return path.posix.join(path.posix.dirname(registryKey), 'deploy.lock');
}

async function readLease(client: Client, bucket: string, key: string): Promise<Lease | undefined> {
  const bytes = await getOptionalObject(client, bucket, key);
  return bytes ? (JSON.parse(bytes.toString('utf8')) as Lease) : undefined;
}

/**
 * Takes the lease for `holder` (idempotent for the same holder). When another
 * holder has it and `isRunning(other)` says it is gone, the stale lease is
 * removed and taken; otherwise reports who holds it.
 */
export async function tryAcquire(
  client: Client,
  bucket: string,
  key: string,
  holder: string,
  isRunning: (holder: string) => Promise<boolean>,
): Promise<LockAttempt> {
  for (let attempt = 0; attempt < 2; attempt++) {
    const lease: Lease = { holder, acquiredAt: new Date().toISOString() };
    if (await putIfAbsent(client, bucket, key, Buffer.from(JSON.stringify(lease)), 'application/json')) return { acquired: true };
    const current = await readLease(client, bucket, key);
    if (!current) continue; // released between the two calls: try again
    if (current.holder === holder) return { acquired: true };
    if (await isRunning(current.holder)) return { acquired: false, heldBy: current };
    // stale: its holder ended without releasing it
    const again = await readLease(client, bucket, key);
    if (again?.holder === current.holder) await removeKeys(client, bucket, [key]);
  }
  const current = await readLease(client, bucket, key);
  return current ? { acquired: false, heldBy: current } : tryAcquire(client, bucket, key, holder, isRunning);
}

/** Releases the lease if `holder` has it; returns whether it did. */
export async function release(client: Client, bucket: string, key: string, holder: string): Promise<boolean> {
  const current = await readLease(client, bucket, key);
  if (current?.holder !== holder) return false;
  await removeKeys(client, bucket, [key]);
  return true;
}
