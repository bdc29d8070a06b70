/** Upload a local SavedModel directory as one version of a slot (saved_model.pb last, as the exporter does). */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Client } from 'minio';
import { listKeys, removeKeys } from '../../src/storage/objects';

export async function uploadVersionDir(client: Client, bucket: string, slot: string, version: number, dir: string): Promise<void> {
  const files = ['variables/variables.data-00000-of-00001', 'variables/variables.index', 'saved_model.pb'];
  for (const f of files) await client.fPutObject(bucket, `${slot}/${version}/${f}`, path.join(dir, f));
}

export async function removePrefix(client: Client, bucket: string, prefix: string): Promise<void> {
  await removeKeys(client, bucket, await listKeys(client, bucket, prefix));
}

export async function tempDir(name: string): Promise<string> {
  return fs.mkdtemp(path.join((await import('node:os')).tmpdir(), `${name}-`));
}
