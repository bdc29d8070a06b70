/** Publish a local SavedModel directory as one version of a slot through the model store (claimed, digests recorded). */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Client } from 'minio';
import { publishSavedModel } from '../../src/store';
import type { SavedModelManifest } from '../../src/savedmodel';
import { WARMUP_FILE } from '../../src/savedmodel/warmup';
import { listKeys, removeKeys } from '../../src/storage/objects';

export async function uploadVersionDir(client: Client, bucket: string, slot: string, version: number, dir: string): Promise<void> {
  const paths = ['variables/variables.data-00000-of-00001', 'variables/variables.index', 'saved_model.pb'];
  // the exporter's warm-up records, when the directory has them
  const hasWarmup = await fs.stat(path.join(dir, WARMUP_FILE)).then(
    () => true,
    () => false,
  );
  if (hasWarmup) paths.splice(2, 0, WARMUP_FILE);
  const files = await Promise.all(
    paths.map(async (p) => {
      const bytes = await fs.readFile(path.join(dir, p));
      return { path: p, bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
    }),
  );
  // only `files` matters to the publisher; the rest describes the model
  const manifest = { files } as unknown as SavedModelManifest;
  await publishSavedModel(client, { bucket, slot, dir, manifest, version });
}

export async function removePrefix(client: Client, bucket: string, prefix: string): Promise<void> {
  await removeKeys(client, bucket, await listKeys(client, bucket, prefix));
}

export async function tempDir(name: string): Promise<string> {
  return fs.mkdtemp(path.join((await import('node:os')).tmpdir(), `${name}-`));
}
