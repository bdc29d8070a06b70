import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config';
import { createMinioClient } from '../../src/storage/minio-client';
import { getObjectBuffer, getOptionalObject, listKeys } from '../../src/storage/objects';

const cfg = loadConfig();

describe('MinIO', () => {
  it('has the data and models buckets', async () => {
    const client = createMinioClient(cfg.minio);
    expect(await client.bucketExists(cfg.buckets.data)).toBe(true);
    expect(await client.bucketExists(cfg.buckets.models)).toBe(true);
  });

  it('puts, lists and gets objects', async () => {
    const client = createMinioClient(cfg.minio);
    const prefix = `stack-test/${randomUUID()}/`;
    const body = Buffer.from('customerId,products\n1,2|3\n');
    await client.putObject(cfg.buckets.data, `${prefix}a.csv`, body);
    await client.putObject(cfg.buckets.data, `${prefix}b/c.txt`, Buffer.from('c'));
    try {
      expect((await listKeys(client, cfg.buckets.data, prefix)).sort()).toEqual([`${prefix}a.csv`, `${prefix}b/c.txt`]);
      expect((await getObjectBuffer(client, cfg.buckets.data, `${prefix}a.csv`)).equals(body)).toBe(true);
      expect(await getOptionalObject(client, cfg.buckets.data, `${prefix}missing`)).toBeUndefined();
    } finally {
      await client.removeObjects(cfg.buckets.data, [`${prefix}a.csv`, `${prefix}b/c.txt`]);
    }
  });
});
