/**
 * Reading and removing versions of the `<slot>/<version>/` layout. A version
 * is COMPLETE only when it was claimed through the publish protocol, every
 * file its claim lists is stored with the claimed size and SHA-256 (the
 * digest the publisher recorded as object metadata; downloadVersion checks
 * the bytes themselves), and saved_model.pb is there. Directory names that
 * are not versions (more than 16 digits, leading zeros, anything else) are
 * ignored, so they can never block newer versions.
 */
import { createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Client } from 'minio';
import { SAVED_MODEL_FILE, type ManifestFile } from '../savedmodel/manifest';
import { isNotFound, listKeys } from '../storage/objects';
import { validateSlotName, versionPrefix } from './layout';
import { listClaimedVersions, readClaim, type ClaimRecord } from './publish';
import { Sha256Tap } from '../digest/sha256';
import { markSlotChanged } from './slot-change';

function safePath(p: string): boolean {
  return !p.startsWith('/') && !p.split('/').some((part) => part === '' || part === '.' || part === '..');
}

function validClaim(claim: ClaimRecord | undefined, slot: string, version: number): claim is ClaimRecord {
  return (
    claim !== undefined &&
    claim.kind === 'savedmodel-version-claim' &&
    claim.slot === slot &&
    claim.version === version &&
    Array.isArray(claim.files) &&
    claim.files.some((f) => f.path === SAVED_MODEL_FILE) &&
    claim.files.every(
      (f) => typeof f.path === 'string' && safePath(f.path) && Number.isSafeInteger(f.bytes) && /^[0-9a-f]{64}$/.test(f.sha256),
    )
  );
}

async function claimOf(client: Client, bucket: string, slot: string, version: number): Promise<ClaimRecord | undefined> {
  try {
    const claim = await readClaim(client, bucket, slot, version);
    return validClaim(claim, slot, version) ? claim : undefined;
  } catch (error) {
    if (error instanceof SyntaxError) return undefined; // an unreadable claim claims nothing
    throw error;
  }
}

/** The claimed files of `version` if it is complete (claimed, all files stored with their sizes and digests), else undefined. */
export async function completeVersionFiles(
  client: Client,
  bucket: string,
  slot: string,
  version: number,
): Promise<ManifestFile[] | undefined> {
  validateSlotName(slot);
  const claim = await claimOf(client, bucket, slot, version);
  if (!claim) return undefined;
  const prefix = versionPrefix(slot, version);
  for (const f of claim.files) {
    try {
      const info = await client.statObject(bucket, prefix + f.path);
      const digest = (info.metaData as Record<string, string | undefined>)['sha256'];
      if (info.size !== f.bytes || digest !== f.sha256) return undefined;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }
  return claim.files;
}

/** Complete versions of `slot`, ascending. */
export async function listCompleteVersions(client: Client, bucket: string, slot: string): Promise<number[]> {
  const complete: number[] = [];
  for (const v of await listClaimedVersions(client, bucket, slot)) {
    if (await completeVersionFiles(client, bucket, slot, v)) complete.push(v);
  }
  return complete;
}

/** The newest complete version (checks from the newest claim down, so an incomplete newest one never hides an older complete one). */
export async function latestCompleteVersion(client: Client, bucket: string, slot: string): Promise<number | undefined> {
  const claimed = await listClaimedVersions(client, bucket, slot);
  for (let i = claimed.length - 1; i >= 0; i--) {
    if (await completeVersionFiles(client, bucket, slot, claimed[i])) return claimed[i];
  }
  return undefined;
}

/**
 * Downloads a complete version's claimed files to `dest` (created), hashing
 * the bytes as they arrive; throws naming the file if any differs from its claim.
 */
export async function downloadVersion(client: Client, bucket: string, slot: string, version: number, dest: string): Promise<number> {
  const files = await completeVersionFiles(client, bucket, slot, version);
  if (!files) throw new Error(`${bucket}/${versionPrefix(slot, version)} is not a complete, claimed version`);
  const prefix = versionPrefix(slot, version);
  await fs.mkdir(dest, { recursive: true });
  for (const f of files) {
    const file = path.join(dest, ...f.path.split('/'));
    await fs.mkdir(path.dirname(file), { recursive: true });
    const hashing = new Sha256Tap();
    await pipeline(await client.getObject(bucket, prefix + f.path), hashing, createWriteStream(file));
    const digest = hashing.digest();
    const bytes = hashing.bytes;
    if (bytes !== f.bytes || digest !== f.sha256) {
      throw new Error(`${bucket}/${prefix}${f.path}: ${bytes} bytes, sha256 ${digest}; the claim says ${f.bytes}, ${f.sha256}`);
    }
  }
  return files.length;
}

/**
 * Removes every object of one version directory; returns how many. The claim
 * stays, so the version number is never reused.
 */
export async function removeVersion(client: Client, bucket: string, slot: string, version: number): Promise<number> {
  validateSlotName(slot);
  // saved_model.pb first: a poller stops seeing the version as complete
  // before its variables disappear.
  const prefix = versionPrefix(slot, version);
  const keys = (await listKeys(client, bucket, prefix)).sort((a, b) =>
    a.endsWith(SAVED_MODEL_FILE) ? -1 : b.endsWith(SAVED_MODEL_FILE) ? 1 : a.localeCompare(b),
  );
  for (const key of keys) await client.removeObject(bucket, key);
  // after the removal: a slot that sees the marker move finds the version gone
  await markSlotChanged(client, bucket, slot, 'removed', version);
  return keys.length;
}
