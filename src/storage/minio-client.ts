/** The MinIO/S3 client, built from configuration. */
import { Client } from 'minio';
import type { Config } from '../config';

export function createMinioClient(cfg: Config['minio']): Client {
  return new Client({
    endPoint: cfg.endPoint,
    port: cfg.port,
    useSSL: cfg.useSSL,
    accessKey: cfg.accessKey,
    secretKey: cfg.secretKey,
    region: cfg.region,
  });
}
