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
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import type * as grpc from '@grpc/grpc-js';
import type { Client } from 'minio';
import type { BackoffPolicy } from '../backoff';
import { startGrpcServer } from './grpc-api';
import { ModelManager } from './manager';
import { DEFAULT_BATCHING, type BatchingOptions } from './batcher';
import { BadRequestError, parsePredictBody, predictResponseBody, type PredictBatch } from './predict-request';
import { PredictionService, ServingError } from './prediction-service';
import { createSlotMetrics, type SlotMetrics } from './slot-metrics';
import { metadataBody, versionStatusBody } from './tf-serving-json';
import { PREDICT_METHOD } from '../../savedmodel/serving-contract';

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

/** TF Serving's HTTP status for an error: InvalidArgument 400, NotFound 404, a body over the limit 413, else 500. */
function httpStatusOf(err: unknown): number {
  if (err instanceof BadRequestError) return err.status;
  if (err instanceof ServingError) return err.code === 'NOT_FOUND' ? 404 : err.code === 'INVALID_ARGUMENT' ? 400 : 500;
  return 500;
}

// TF Serving's two request patterns (http_rest_api_handler.cc), plus /metadata.
const PREDICT_ROUTE = /^\/v1\/models\/([^/:]+)(?:\/versions\/(\d+))?:(classify|regress|predict)$/i;
const STATUS_ROUTE = /^\/v1\/models(?:\/([^/:]+))?(?:\/versions\/(\d+))?(\/metadata)?\/?$/i;

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
  const app = Fastify({ bodyLimit, logger: false });
  // TF Serving accepts any content type; the body is parsed (and rejected) here.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));

  const fail = (reply: FastifyReply, status: number, error: string) => reply.code(status).send({ error });

  app.setErrorHandler((err: { statusCode?: number; message: string }, req, reply) => {
    if (err.statusCode === 413) {
      const length = req.headers['content-length'];
      return fail(reply, 413, `request body${length ? ` of ${length} bytes` : ''} exceeds the limit of ${bodyLimit} bytes`);
    }
    return fail(reply, err.statusCode && err.statusCode < 500 ? 400 : 500, err.message);
  });
  app.setNotFoundHandler((req, reply) =>
    // under /v1/ TF Serving answers InvalidArgument ("Malformed request"); elsewhere nothing is served
    /^\/v1\//i.test(req.url)
      ? fail(reply, 400, `Malformed request: ${req.method} ${req.url}`)
      : fail(reply, 404, `Not found: ${req.method} ${req.url}`),
  );

  app.get('/healthz', async () => ({ ok: true }));
  app.get('/metrics', async (_req, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));

  const parseVersion = (text: string | undefined): number | undefined => {
    if (text === undefined) return undefined;
    const v = Number(text);
    if (!Number.isSafeInteger(v)) throw new BadRequestError(`Failed to convert version: ${text} to numeric.`);
    return v;
  };

  const predict = async (name: string, version: number | undefined, method: string, body: unknown, reply: FastifyReply) => {
    try {
      if (method.toLowerCase() !== 'predict') {
        const refused = new BadRequestError(`${method} is not supported: the model's signature is ${PREDICT_METHOD}`);
        service.refused('rest', refused);
        throw refused;
      }
      let format: PredictBatch['format'] = 'instances';
      const { scores } = await service.predict('rest', name, version, (signature) => {
        const batch = parsePredictBody(typeof body === 'string' ? body : '', Object.keys(signature.inputs), maxRows);
        format = batch.format;
        return batch;
      });
      return reply.type('application/json').send(predictResponseBody(format, scores));
    } catch (err) {
      return fail(reply, httpStatusOf(err), (err as Error).message);
    }
  };

  const status = (name: string | undefined, version: number | undefined, isMetadata: boolean, reply: FastifyReply) => {
    if (!name) return fail(reply, 400, 'Missing model name in request.');
    try {
      if (!isMetadata) return versionStatusBody(service.statuses(name, version));
      const servable = service.servable(name, version);
      return metadataBody(name, servable.version, servable.signature);
    } catch (err) {
      return fail(reply, httpStatusOf(err), (err as Error).message);
    }
  };

  app.route({
    method: ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'],
    url: '/v1/*',
    handler: async (req, reply) => {
      const urlPath = req.url.split('?')[0];
      try {
        if (req.method === 'POST') {
          const m = PREDICT_ROUTE.exec(urlPath);
          if (m) return predict(decodeURIComponent(m[1]), parseVersion(m[2]), m[3], req.body, reply);
        } else if (req.method === 'GET') {
          const m = STATUS_ROUTE.exec(urlPath);
          if (m) return status(m[1] === undefined ? undefined : decodeURIComponent(m[1]), parseVersion(m[2]), m[3] !== undefined, reply);
        }
        return fail(reply, 400, `Malformed request: ${req.method} ${urlPath}`);
      } catch (err) {
        // a bad version number or a bad percent-escape in the model name
        return fail(reply, 400, err instanceof BadRequestError ? err.message : `Malformed request: ${req.method} ${urlPath}`);
      }
    },
  });

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
