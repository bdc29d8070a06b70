/**
 * Object-store operations over a `minio` Client, shared by every wing:
 * list "directories", keys and objects, read whole or optional objects,
 * create-if-absent (S3 conditional write, `If-None-Match: *`), test
 * existence, delete keys and fail loudly if any deletion failed
 * (DeleteObjects reports per-key errors in a 200 reply).
 */
import type { Readable } from 'node:stream';
import type { Client } from 'minio';

export interface StoredObject {
  key: string;
  size: number;
  lastModified: Date;
}

/** Names (without `prefix` and trailing '/') of the "directories" directly under `prefix`. */
export async function listDirectories(client: Client, bucket: string, prefix: string): Promise<string[]> {
  const names: string[] = [];
  for await (const item of client.listObjectsV2(bucket, prefix, false)) {
    if (item.prefix) names.push(item.prefix.slice(prefix.length).replace(/\/$/, ''));
  }
  return names;
}

/** Every object under `prefix`, recursively. */
export async function listObjects(client: Client, bucket: string, prefix: string): Promise<StoredObject[]> {
  const objects: StoredObject[] = [];
  for await (const item of client.listObjectsV2(bucket, prefix, true)) {
    if (item.name !== undefined) objects.push({ key: item.name, size: item.size, lastModified: item.lastModified });
  }
  return objects;
}

export function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}

export const isNotFound = (error: unknown): boolean => ['NoSuchKey', 'NotFound'].includes(errorCode(error) ?? '');

/** Writes `body` at `key` only if no object is there; false if one already was. Atomic on the server. */
export async function putIfAbsent(client: Client, bucket: string, key: string, body: Buffer, contentType: string): Promise<boolean> {
  try {
    await client.putObject(bucket, key, body, body.length, { 'Content-Type': contentType, 'If-None-Match': '*' });
    return true;
  } catch (error) {
    if (errorCode(error) === 'PreconditionFailed') return false;
    throw error;
  }
}

export async function readStream(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
  return Buffer.concat(chunks);
}

export async function getObjectBuffer(client: Client, bucket: string, key: string): Promise<Buffer> {
  return readStream(await client.getObject(bucket, key));
}

/** The object's bytes, or undefined when it does not exist. */
export async function getOptionalObject(client: Client, bucket: string, key: string): Promise<Buffer | undefined> {
  try {
    return await getObjectBuffer(client, bucket, key);
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** Keys under `prefix`: every object when recursive, else the objects and "directories" directly under it. */
export async function listKeys(client: Client, bucket: string, prefix: string, recursive = true): Promise<string[]> {
  const keys: string[] = [];
  for await (const item of client.listObjectsV2(bucket, prefix, recursive)) {
    const key = item.name ?? item.prefix;
    if (key) keys.push(key);
  }
  return keys;
}

export async function objectExists(client: Client, bucket: string, key: string): Promise<boolean> {
  try {
    await client.statObject(bucket, key);
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}

export async function removeKeys(client: Client, bucket: string, keys: readonly string[]): Promise<void> {
  if (keys.length === 0) return;
  const failures = (await client.removeObjects(bucket, [...keys])).filter((r) => r != null);
  if (failures.length > 0)
    throw new Error(`could not delete ${failures.length} object(s) from ${bucket}: ${JSON.stringify(failures).slice(0, 500)}`);
}
