/**
 * Optimistic concurrency on one object: read it with its ETag, write it back
 * only if it is still that version (`If-Match`), or create it only if it is
 * absent (`If-None-Match: *`). A lost race is reported, never overwritten;
 * the caller re-reads and decides again. MinIO and S3 both honour these
 * headers on PUT (checked against the local MinIO by the deploy-lock test).
 */
import type { IncomingMessage } from 'node:http';
import type { Client } from 'minio';
import { errorCode, isNotFound, readStream } from '../storage/objects';

export interface Versioned {
  body: Buffer;
  /** the object's ETag, without quotes */
  etag: string;
}

const unquote = (etag: string) => etag.replace(/^"|"$/g, '');

/** The object with its ETag, or undefined when it does not exist. */
export async function readVersioned(client: Client, bucket: string, key: string): Promise<Versioned | undefined> {
  try {
    const stream = await client.getObject(bucket, key);
    // the minio client hands back the HTTP response itself: its ETag is the body's version
    const header = (stream as Partial<IncomingMessage>).headers?.etag;
    const body = await readStream(stream);
    const etag = typeof header === 'string' ? unquote(header) : unquote((await client.statObject(bucket, key)).etag);
    return { body, etag };
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/**
 * Writes `body` if the object is still at `expected` (an ETag), or, for
 * `expected === null`, if there is no object yet. Returns the new ETag, or
 * undefined when another writer got there first.
 */
export async function writeIfUnchanged(
  client: Client,
  bucket: string,
  key: string,
  body: Buffer,
  expected: string | null,
  contentType = 'application/json',
): Promise<string | undefined> {
  const condition = expected === null ? { 'If-None-Match': '*' } : { 'If-Match': `"${expected}"` };
  try {
    const { etag } = await client.putObject(bucket, key, body, body.length, { 'Content-Type': contentType, ...condition });
    return unquote(etag);
  } catch (err) {
    // 412: the precondition failed; 409: a concurrent conditional write is in progress
    if (['PreconditionFailed', 'ConditionalRequestConflict'].includes(errorCode(err) ?? '')) return undefined;
    throw err;
  }
}
