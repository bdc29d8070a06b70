/**
 * One model slot: an HTTP server speaking the TF Serving REST subset of
 * docs/design.md for one model name, and optionally TF Serving's gRPC API on a
 * port of its own, serving the newest complete version under
 * `<bucket>/<name>/` in MinIO. The model server and the workflow cannot tell
 * it from TF Serving, and real TF Serving can take its place.
 *
 * Status codes follow TF Serving's mapping of its error codes: a malformed
 * request (bad path or method under /v1/, bad JSON, bad ids, too many rows)
 * is InvalidArgument → 400; only an unknown model or version is 404. A body
 * over the size limit is refused with 413 before it is read whole.
 */
import type { FastifyInstance } from 'fastify';
import type * as grpc from '@grpc/grpc-js';
import type { Client } from 'minio';
import type { BackoffPolicy } from '../backoff';
import { startGrpcServer } from './grpc-api';
import { ModelManager } from './manager';
import { DEFAULT_BATCHING, type BatchingOptions } from './batcher';
import { PredictionService } from './prediction-service';
import { createRestApi } from './rest-api';
import { createSlotMetrics, type SlotMetrics } from './slot-metrics';

export const DEFAULT_MAX_ROWS = 100_000;
export const DEFAULT_BODY_LIMIT = 16 * 1024 * 1024;

export interface SlotServerOptions {
  name: string;
  host: string;
  port: number;
  /** port of the gRPC API (0 = any free port); no gRPC server when absent */
  grpcPort?: number;
  client: Client;
  bucket: string;
  pollIntervalMs?: number;
  /** back-off between attempts to load a version that failed; default 1 s doubling to 60 s */
  loadRetry?: BackoffPolicy;
  /** where versions are downloaded; default a directory of this process under the OS temp dir */
  cacheDir?: string;
  /** the largest number of rows (examples) one predict call may carry; default 100,000 */
  maxBatch?: number;
  /** the largest request body (REST) or message (gRPC), in bytes; default 16 MiB */
  bodyLimit?: number;
  /** server-side batching of concurrent predict calls (default: DEFAULT_BATCHING) */
  batching?: BatchingOptions;
  log?: (msg: string) => void;
}

export interface SlotServer {
  url: string;
  /** host:port of the gRPC API, when it runs */
  grpcAddress?: string;
  manager: ModelManager;
  service: PredictionService;
  metrics: SlotMetrics;
  app: FastifyInstance;
  close(): Promise<void>;
}

export async function startSlotServer(opts: SlotServerOptions): Promise<SlotServer> {
  const maxRows = opts.maxBatch ?? DEFAULT_MAX_ROWS;
  const bodyLimit = opts.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const metrics = createSlotMetrics();
  const manager = new ModelManager({
    slot: opts.name,
    client: opts.client,
    bucket: opts.bucket,
    pollIntervalMs: opts.pollIntervalMs ?? 1000,
    loadRetry: opts.loadRetry,
    cacheDir: opts.cacheDir,
    log: opts.log,
    onWarmup: (version, records) => metrics.warmupRecords.inc({ version: String(version) }, records),
  });
  const service = new PredictionService(opts.name, manager, metrics, opts.batching ?? DEFAULT_BATCHING);
  const app = createRestApi({ service, metrics, maxRows, bodyLimit });

  manager.start();
  let grpcServer: grpc.Server | undefined;
  let grpcAddress: string | undefined;
  try {
    if (opts.grpcPort !== undefined) {
      const started = await startGrpcServer(opts.host, opts.grpcPort, bodyLimit, { service, maxRows });
      grpcServer = started.server;
      grpcAddress = `${opts.host}:${started.port}`;
    }
    await app.listen({ host: opts.host, port: opts.port });
  } catch (err) {
    grpcServer?.forceShutdown();
    await manager.close();
    throw err;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  return {
    url: `http://${opts.host}:${port}`,
    grpcAddress,
    manager,
    service,
    metrics,
    app,
    close: async () => {
      await app.close();
      if (grpcServer) {
        const server = grpcServer;
        await new Promise<void>((resolve) => {
          const force = setTimeout(() => server.forceShutdown(), 2000);
          server.tryShutdown(() => {
            clearTimeout(force);
            resolve();
          });
        });
      }
      await manager.close();
    },
  };
}
