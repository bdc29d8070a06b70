/** Version directories under a slot's base path in the models bucket (TF Serving layout). */
import type { Client } from 'minio';
import { listKeys } from '../storage/objects';

/** Removes every object of one version directory; returns how many. */
export async function removeVersion(client: Client, bucket: string, slot: string, version: number): Promise<number> {
  // saved_model.pb first: a poller stops seeing the version as complete
  // before its variables disappear.
  const prefix = `${slot}/${version}/`;
  const keys = (await listKeys(client, bucket, prefix)).sort((a, b) =>
    a.endsWith('saved_model.pb') ? -1 : b.endsWith('saved_model.pb') ? 1 : a.localeCompare(b),
  );
  for (const key of keys) await client.removeObject(bucket, key);
  return keys.length;
}
