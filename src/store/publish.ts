/**
 * Publishes an exported SavedModel to object storage as
 * `<bucket>/<slot>/<version>/…`, the base-path layout TF Serving polls.
 *
 * Protocol (objects in S3 appear one at a time, so a directory cannot appear
 * atomically):
 *  1. Claim the version: create `<slot>/_claims/<version>.json` with an S3
 *     conditional write (`If-None-Match: *`), so two publishers can never
 *     both own a version. The claim lists the files' SHA-256s.
 *  2. Upload every file under `<slot>/_staging-<version>-<random>/`, hashing
 *     the bytes as they stream and aborting if they differ from the manifest.
 *  3. Server-side copy into `<slot>/<version>/`: the variables files first,
 *     check their sizes and digests, then `saved_model.pb` LAST.
 *  4. Delete the staging objects.
 *
 * Guarantee: a reader that treats version N as present only once
 * `<slot>/N/saved_model.pb` exists (the project's slots do) never sees an
 * incomplete or changing version — every other file of N was copied and
 * verified before that object was created, each object appears whole
 * (S3 PUT/COPY semantics), MinIO's reads and listings are strongly
 * consistent (read-after-write), and no object of a published version is
 * ever written again. TF Serving ignores non-integer directory names, so
 * `_claims/` and `_staging-…/` are invisible to it.
 *
 * Not guaranteed: a reader that treats a version as present as soon as any
 * object under `<slot>/N/` is listed (TF Serving reading `s3://` directly)
 * can see N after its variables were copied but before `saved_model.pb`
 * was; it then fails that load attempt and retries. The real-TF-Serving
 * deployment syncs MinIO to a local volume instead; it sees only whole
 * versions if the sync materialises a version directory atomically (fetch
 * into a non-numeric temporary directory, rename to N once `saved_model.pb`
 * is there) — a file-by-file mirror into N/ would not.
 *
 * Idempotence: publishing the same files again (an activity retry) finds
 * its own claim and resumes or returns the already complete version instead
 * of creating a second one; different files never overwrite a claimed or
 * existing version (VersionExistsError).
 */
import { FailureType } from '../failure-types';
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import * as path from 'node:path';
import { CopyDestinationOptions, CopySourceOptions, type Client } from 'minio';
import { SAVED_MODEL_FILE, type ManifestFile, type SavedModelManifest } from '../savedmodel/manifest';
import {
  getObjectBuffer as readObject,
  isNotFound,
  listDirectories,
  listObjects,
  objectExists,
  putIfAbsent,
  removeKeys,
  type StoredObject,
} from '../storage/objects';
import { Sha256Tap } from '../digest/sha256';
import { markSlotChanged } from './slot-change';
import {
  claimKey,
  claimsPrefix,
  isStagingDir,
  slotDirPrefix,
  slotPrefix,
  stagingPrefix,
  validateSlotName,
  versionNumbers,
  versionPrefix,
} from './layout';

const MAX_CLAIM_ATTEMPTS = 20;

export interface PublishOptions {
  /** e.g. 'models' */
  bucket: string;
  /** TF Serving model name / base directory, e.g. 'recommender1' */
  slot: string;
  /** local export directory (what exportSavedModel wrote) */
  dir: string;
  /** what exportSavedModel returned: the files and digests to publish */
  manifest: SavedModelManifest;
  /** publish exactly this version (refused if taken by other files); default: one more than any existing or claimed */
  version?: number;
  /** called after each step, awaited (progress, heartbeats, tests) */
  onProgress?: (event: PublishEvent) => void | Promise<void>;
}

export type PublishEvent =
  | { kind: 'claimed'; version: number; claimKey: string; resumed: boolean }
  | { kind: 'staged'; key: string }
  | { kind: 'copied'; key: string }
  | { kind: 'staging-removed'; prefix: string };

export interface PublishedObject {
  key: string;
  bytes: number;
  sha256: string;
}

export interface PublishResult {
  bucket: string;
  slot: string;
  version: number;
  /** `<slot>/<version>/` */
  prefix: string;
  /** final objects, in the order they were made visible (saved_model.pb last) */
  objects: PublishedObject[];
  /** an earlier attempt with the same files had claimed this version */
  resumed: boolean;
  /** that earlier attempt had already finished; nothing was written this time */
  alreadyComplete: boolean;
  /** set if the staging objects could not be removed (the version is published regardless) */
  stagingLeftBehind?: string;
}

export class VersionExistsError extends Error {
  override readonly name = FailureType.VersionExists;
  constructor(
    readonly slot: string,
    readonly version: number,
    detail: string,
  ) {
    super(`version ${version} of ${slot} already exists: ${detail}`);
  }
}

export interface ClaimRecord {
  kind: 'savedmodel-version-claim';
  slot: string;
  version: number;
  files: ManifestFile[];
  claimedAt: string;
  claimedBy: string;
}

/** Integer version directories under `<slot>/` (complete or not), ascending. */
export async function listVersions(client: Client, bucket: string, slot: string): Promise<number[]> {
  validateSlotName(slot);
  return versionNumbers(await listDirectories(client, bucket, slotPrefix(slot)));
}

/** Versions claimed through this protocol (published, or in progress, or abandoned), ascending. */
export async function listClaimedVersions(client: Client, bucket: string, slot: string): Promise<number[]> {
  validateSlotName(slot);
  const prefix = claimsPrefix(slot);
  const names = (await listObjects(client, bucket, prefix)).map((o) => o.key.slice(prefix.length).replace(/\.json$/, ''));
  return versionNumbers(names);
}

export async function publishSavedModel(client: Client, options: PublishOptions): Promise<PublishResult> {
  const { bucket, slot, dir, manifest } = options;
  validateSlotName(slot);
  checkManifest(manifest);
  if (options.version !== undefined && !(Number.isSafeInteger(options.version) && options.version >= 1)) {
    throw new Error(`version must be a positive integer, got ${options.version}`);
  }
  const emit = async (event: PublishEvent): Promise<void> => {
    await options.onProgress?.(event);
  };

  const { version, resumed } = await claimVersion(client, bucket, slot, manifest.files, options.version);
  await emit({ kind: 'claimed', version, claimKey: claimKey(slot, version), resumed });
  const prefix = versionPrefix(slot, version);
  // Visible order: everything else first, saved_model.pb last.
  const ordered = [
    ...manifest.files.filter((f) => f.path !== SAVED_MODEL_FILE),
    ...manifest.files.filter((f) => f.path === SAVED_MODEL_FILE),
  ];
  const objects = ordered.map((f) => ({ key: prefix + f.path, bytes: f.bytes, sha256: f.sha256 }));
  const base = { bucket, slot, version, prefix, objects, resumed };

  if (resumed && (await objectExists(client, bucket, prefix + SAVED_MODEL_FILE))) {
    // again: the attempt that completed it may have stopped before its marker
    await markSlotChanged(client, bucket, slot, 'completed', version);
    return { ...base, alreadyComplete: true };
  }

  const staging = stagingPrefix(slot, version, randomBytes(6).toString('hex'));
  const staged: string[] = [];
  try {
    for (const file of ordered) {
      const key = staging + file.path;
      staged.push(key);
      await uploadVerified(client, bucket, key, path.join(dir, ...file.path.split('/')), file);
      await emit({ kind: 'staged', key });
    }
    for (const file of ordered) {
      if (file.path === SAVED_MODEL_FILE)
        await verifyStored(
          client,
          bucket,
          prefix,
          ordered.filter((f) => f.path !== SAVED_MODEL_FILE),
        );
      await client.copyObject(
        new CopySourceOptions({ Bucket: bucket, Object: staging + file.path }),
        new CopyDestinationOptions({ Bucket: bucket, Object: prefix + file.path }),
      );
      await emit({ kind: 'copied', key: prefix + file.path });
    }
  } catch (error) {
    await removeKeys(client, bucket, staged).catch(() => undefined); // the original error matters more
    throw error;
  }
  // the version is complete: the slots' cheap poll sees the marker move
  await markSlotChanged(client, bucket, slot, 'completed', version);
  try {
    await removeKeys(client, bucket, staged);
  } catch {
    // The version is complete and visible; failing now would only make a retry find it done.
    return { ...base, alreadyComplete: false, stagingLeftBehind: staging };
  }
  await emit({ kind: 'staging-removed', prefix: staging });
  return { ...base, alreadyComplete: false };
}

/** Staging directories of `slot` whose newest object is older than `cutoffMs` (epoch ms), with their objects. */
export async function staleStaging(
  client: Client,
  bucket: string,
  slot: string,
  cutoffMs: number,
): Promise<{ prefix: string; objects: StoredObject[] }[]> {
  const stale: { prefix: string; objects: StoredObject[] }[] = [];
  for (const name of await listDirectories(client, bucket, slotPrefix(slot))) {
    if (!isStagingDir(name)) continue;
    const prefix = slotDirPrefix(slot, name);
    const objects = await listObjects(client, bucket, prefix);
    if (objects.every((o) => o.lastModified.getTime() < cutoffMs)) stale.push({ prefix, objects });
  }
  return stale;
}

/**
 * Removes staging directories of `slot` whose newest object is older than
 * `olderThanMs` (left by publishers that crashed); returns their prefixes.
 */
export async function removeStaleStaging(client: Client, bucket: string, slot: string, olderThanMs: number): Promise<string[]> {
  const stale = await staleStaging(client, bucket, slot, Date.now() - olderThanMs);
  for (const { objects } of stale) {
    await removeKeys(
      client,
      bucket,
      objects.map((o) => o.key),
    );
  }
  return stale.map((s) => s.prefix);
}

function checkManifest(manifest: SavedModelManifest): void {
  const paths = new Set(manifest.files.map((f) => f.path));
  if (!paths.has(SAVED_MODEL_FILE)) throw new Error(`manifest has no ${SAVED_MODEL_FILE}`);
  if (paths.size !== manifest.files.length) throw new Error('manifest lists a file twice');
  for (const f of manifest.files) {
    if (f.path.startsWith('/') || f.path.split('/').some((part) => part === '' || part === '.' || part === '..')) {
      throw new Error(`manifest path ${JSON.stringify(f.path)} must be relative and normalised`);
    }
    if (!/^[0-9a-f]{64}$/.test(f.sha256)) throw new Error(`manifest sha256 of ${f.path} is not a hex SHA-256`);
  }
}

function sameFiles(a: readonly ManifestFile[], b: readonly ManifestFile[]): boolean {
  const key = (files: readonly ManifestFile[]): string =>
    files
      .map((f) => `${f.path}\u0000${f.bytes}\u0000${f.sha256}`)
      .sort()
      .join('\n');
  return key(a) === key(b);
}

export async function readClaim(client: Client, bucket: string, slot: string, version: number): Promise<ClaimRecord | undefined> {
  try {
    return JSON.parse((await readObject(client, bucket, claimKey(slot, version))).toString('utf8')) as ClaimRecord;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

async function hasObjects(client: Client, bucket: string, prefix: string): Promise<boolean> {
  for await (const item of client.listObjectsV2(bucket, prefix, true)) {
    if (item.name !== undefined) return true;
  }
  return false;
}

type ClaimOutcome = 'claimed' | 'resumed' | 'taken';

async function claimVersion(
  client: Client,
  bucket: string,
  slot: string,
  files: ManifestFile[],
  explicit: number | undefined,
): Promise<{ version: number; resumed: boolean }> {
  const tryClaim = async (version: number): Promise<ClaimOutcome> => {
    const existing = await readClaim(client, bucket, slot, version);
    if (existing) return sameFiles(existing.files, files) ? 'resumed' : 'taken';
    // A version directory written outside this protocol is never overwritten either.
    if (await hasObjects(client, bucket, versionPrefix(slot, version))) return 'taken';
    const record: ClaimRecord = {
      kind: 'savedmodel-version-claim',
      slot,
      version,
      files,
      claimedAt: new Date().toISOString(),
      claimedBy: `${hostname()}:${process.pid}`,
    };
    if (await putIfAbsent(client, bucket, claimKey(slot, version), Buffer.from(JSON.stringify(record, null, 2)), 'application/json')) {
      return 'claimed';
    }
    const winner = await readClaim(client, bucket, slot, version); // lost a race to another publisher
    return winner && sameFiles(winner.files, files) ? 'resumed' : 'taken';
  };

  if (explicit !== undefined) {
    const outcome = await tryClaim(explicit);
    if (outcome === 'taken')
      throw new VersionExistsError(slot, explicit, 'claimed or written with different files; versions are never overwritten');
    return { version: explicit, resumed: outcome === 'resumed' };
  }
  for (let attempt = 0; attempt < MAX_CLAIM_ATTEMPTS; attempt++) {
    const [existing, claimed] = await Promise.all([listVersions(client, bucket, slot), listClaimedVersions(client, bucket, slot)]);
    const highest = Math.max(0, ...existing, ...claimed);
    const latestClaim = claimed.at(-1);
    // A retry of this very publish resumes its own claim rather than publishing the same model twice.
    if (latestClaim !== undefined && latestClaim === highest) {
      const claim = await readClaim(client, bucket, slot, latestClaim);
      if (claim && sameFiles(claim.files, files)) return { version: latestClaim, resumed: true };
    }
    const outcome = await tryClaim(highest + 1);
    if (outcome !== 'taken') return { version: highest + 1, resumed: outcome === 'resumed' };
  }
  throw new Error(`could not claim a version of ${slot} after ${MAX_CLAIM_ATTEMPTS} attempts (too many concurrent publishers?)`);
}

async function uploadVerified(client: Client, bucket: string, key: string, localPath: string, expected: ManifestFile): Promise<void> {
  const { size } = await stat(localPath);
  if (size !== expected.bytes) throw new Error(`${localPath} is ${size} bytes, the manifest says ${expected.bytes}`);
  const hashing = new Sha256Tap();
  const source = createReadStream(localPath);
  source.on('error', (error) => hashing.destroy(error));
  source.pipe(hashing);
  await client.putObject(bucket, key, hashing, expected.bytes, {
    'Content-Type': expected.path.endsWith('.pb') ? 'application/x-protobuf' : 'application/octet-stream',
    'X-Amz-Meta-Sha256': expected.sha256,
  });
  const actual = hashing.digest();
  if (actual !== expected.sha256) {
    throw new Error(`${localPath} changed since export: sha256 ${actual}, the manifest says ${expected.sha256}`);
  }
}

/** The copies made so far must be exactly the manifest's files before saved_model.pb makes them visible. */
async function verifyStored(client: Client, bucket: string, prefix: string, files: readonly ManifestFile[]): Promise<void> {
  for (const f of files) {
    const info = await client.statObject(bucket, prefix + f.path);
    const digest = (info.metaData as Record<string, string | undefined>)['sha256'];
    if (info.size !== f.bytes || digest !== f.sha256) {
      throw new Error(`${prefix + f.path} after copy: ${info.size} bytes, sha256 ${digest}; expected ${f.bytes}, ${f.sha256}`);
    }
  }
}
