/**
 * Where a slot's versions come from: the slot's base path `<bucket>/<slot>/`
 * in MinIO, polled like TF Serving polls its file system. A version counts
 * only once complete (its saved_model.pb is written last by the exporter).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Client } from 'minio';
import { listKeys } from '../../storage/objects';

export async function listCompleteVersions(client: Client, bucket: string, slot: string): Promise<number[]> {
  const keys = await listKeys(client, bucket, `${slot}/`, true);
  const versions = new Set<number>();
  for (const key of keys) {
    const m = /^[^/]+\/(\d+)\/saved_model\.pb$/.exec(key);
    if (m) versions.add(Number(m[1]));
  }
  return [...versions].sort((a, b) => a - b);
}

/** Copies one version directory to `dest` (created), returning the file count. */
export async function downloadVersion(client: Client, bucket: string, slot: string, version: number, dest: string): Promise<number> {
  const prefix = `${slot}/${version}/`;
  const keys = await listKeys(client, bucket, prefix, true);
  if (!keys.some((k) => k === `${prefix}saved_model.pb`)) throw new Error(`${bucket}/${prefix} has no saved_model.pb`);
  await fs.mkdir(dest, { recursive: true });
  for (const key of keys) {
    const rel = key.slice(prefix.length);
    if (!rel || rel.includes('..')) continue;
    const file = path.join(dest, rel);
    await fs.mkdir(path.dirname(file), { recursive: true });
    await client.fGetObject(bucket, key, file);
  }
  return keys.length;
}
