/** Creates the buckets the system needs, idempotently. */
import type { Client } from 'minio';

export async function ensureBuckets(client: Client, buckets: string[], region: string): Promise<string[]> {
  const created: string[] = [];
  for (const bucket of buckets) {
    if (await client.bucketExists(bucket)) continue;
    try {
      await client.makeBucket(bucket, region);
      created.push(bucket);
    } catch (err) {
      // Another process may have created it between the check and the call.
      const code = (err as { code?: string }).code;
      if (code !== 'BucketAlreadyOwnedByYou' && code !== 'BucketAlreadyExists') throw err;
    }
  }
  return created;
}
