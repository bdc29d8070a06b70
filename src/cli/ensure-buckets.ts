/** Creates the configured data and models buckets (used by the local stack's start). */
import { loadConfig } from '../config';
import { ensureBuckets } from '../storage/buckets';
import { createMinioClient } from '../storage/minio-client';

async function main(): Promise<void> {
  const cfg = loadConfig();
  const created = await ensureBuckets(createMinioClient(cfg.minio), [cfg.buckets.data, cfg.buckets.models], cfg.minio.region);
  console.log(created.length ? `created buckets: ${created.join(', ')}` : 'buckets already present');
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
