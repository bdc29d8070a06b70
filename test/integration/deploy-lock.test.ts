import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config';
import { lockKey, release, tryAcquire } from '../../src/registry/deploy-lock';
import { createMinioClient } from '../../src/storage/minio-client';
import { removePrefix } from '../helpers/minio';

const cfg = loadConfig();
const minio = createMinioClient(cfg.minio);
const prefix = `lock-test-${randomUUID().slice(0, 8)}`;
const key = lockKey(`${prefix}/deployments.json`);
const running = async () => true;
const gone = async () => false;

afterAll(async () => {
  await removePrefix(minio, cfg.buckets.models, `${prefix}/`);
});

describe('deploy lock (lease in MinIO)', () => {
  it('is held by one run at a time, re-entrant, broken only when its holder is gone', async () => {
    expect(key).toBe(`${prefix}/deploy.lock`);
    expect(await tryAcquire(minio, cfg.buckets.models, key, 'A/1', running)).toEqual({ acquired: true });
    expect(await tryAcquire(minio, cfg.buckets.models, key, 'A/1', running)).toEqual({ acquired: true });
    expect(await tryAcquire(minio, cfg.buckets.models, key, 'B/1', running)).toMatchObject({ acquired: false, heldBy: { holder: 'A/1' } });
    expect(await release(minio, cfg.buckets.models, key, 'B/1')).toBe(false);
    // A ended without releasing: B may break the stale lease
    expect(await tryAcquire(minio, cfg.buckets.models, key, 'B/1', gone)).toEqual({ acquired: true });
    expect(await release(minio, cfg.buckets.models, key, 'A/1')).toBe(false);
    expect(await release(minio, cfg.buckets.models, key, 'B/1')).toBe(true);
    expect(await tryAcquire(minio, cfg.buckets.models, key, 'C/1', running)).toEqual({ acquired: true });
    expect(await release(minio, cfg.buckets.models, key, 'C/1')).toBe(true);
  });
});
