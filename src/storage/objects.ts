/** Small object helpers over the MinIO client: read whole/optional objects, list keys. */
import type { Client } from 'minio';
import type { Readable } from 'node:stream';

export function isNotFound(err: unknown): boolean {
  const code = (err as { code?: string }).code;
  return code === 'NoSuchKey' || code === 'NotFound' || code === 'NoSuchBucket';
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

export async function listKeys(client: Client, bucket: string, prefix: string, recursive = true): Promise<string[]> {
  const keys: string[] = [];
  for await (const item of client.listObjectsV2(bucket, prefix, recursive)) {
    const entry = item as { name?: string; prefix?: string };
    const key = entry.name ?? entry.prefix;
    if (key) keys.push(key);
  }
  return keys;
}
