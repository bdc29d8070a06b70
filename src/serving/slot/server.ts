/**
 * One model slot: an HTTP server speaking the TF Serving REST subset of
 * DESIGN.md for one model name, serving the newest complete version under
 * `<bucket>/<name>/` in MinIO. The model server and the workflow cannot tell
 * it from TF Serving, and real TF Serving can take its place.
 */
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import * as tf from '@tensorflow/tfjs-node';
import type { Client } from 'minio';
import { ModelManager } from './model-manager';
import { BadRequestError, parsePredictBody } from './predict-request';
import { metadataBody, notFound, versionStatusBody } from './tf-serving-json';

export interface SlotServerOptions {
  name: string;
  host: string;
  port: number;
  client: Client;
  bucket: string;
  pollIntervalMs?: number;
  /** the largest number of examples one predict call may carry */
  maxBatch?: number;
  /** the largest request body, in bytes */
  bodyLimit?: number;
  log?: (msg: string) => void;
}

export interface SlotServer {
  url: string;
  manager: ModelManager;
  app: FastifyInstance;
  close(): Promise<void>;
}

// /v1/models/{name}[/versions/{v}][/metadata | :predict]
const ROUTE = /^\/v1\/models\/([^/:]+)(?:\/versions\/(\d+))?(\/metadata|:predict)?\/?$/;

export async function startSlotServer(opts: SlotServerOptions): Promise<SlotServer> {
  const maxBatch = opts.maxBatch ?? 10_000;
  const bodyLimit = opts.bodyLimit ?? 8 * 1024 * 1024;
  const manager = new ModelManager({
    slot: opts.name,
    client: opts.client,
    bucket: opts.bucket,
    pollIntervalMs: opts.pollIntervalMs ?? 1000,
    log: opts.log,
  });
  const app = Fastify({ bodyLimit, logger: false });
  // TF Serving accepts any content type; the body is parsed (and rejected) here.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));

  const fail = (reply: FastifyReply, status: number, error: string) => reply.code(status).send({ error });

  app.setErrorHandler((err: { statusCode?: number; message: string }, _req, reply) => {
    if (err.statusCode === 413) return fail(reply, 400, `request body exceeds the limit of ${bodyLimit} bytes`);
    return fail(reply, err.statusCode && err.statusCode < 500 ? 400 : 500, err.message);
  });
  app.setNotFoundHandler((req, reply) => fail(reply, 404, `Malformed request: ${req.method} ${req.url}`));

  app.get('/healthz', async () => ({ ok: true }));

  const handle = async (method: 'GET' | 'POST', url: string, body: unknown, reply: FastifyReply) => {
    const m = ROUTE.exec(url.split('?')[0]);
    if (!m) return fail(reply, 404, `Malformed request: ${method} ${url}`);
    const [, name, versionText, action] = m;
    const version = versionText === undefined ? undefined : Number(versionText);
    if (name !== opts.name) return fail(reply, 404, notFound(name, version));

    if (action === ':predict') {
      if (method !== 'POST') return fail(reply, 404, `Malformed request: ${method} ${url}`);
      const servable = manager.servable(version);
      if (!servable) return fail(reply, 404, notFound(name, version));
      try {
        const inputNames = Object.keys(servable.signature.inputs);
        const batch = parsePredictBody(typeof body === 'string' ? body : '', inputNames, maxBatch);
        const feeds = Object.fromEntries(
          inputNames.map((n) => [n, tf.tensor2d(batch.columns[n], [batch.size, 1], 'int32')]),
        );
        let scores: number[][];
        try {
          const out = servable.model.predict(feeds) as tf.Tensor | tf.NamedTensorMap;
          const tensor = out instanceof tf.Tensor ? out : Object.values(out)[0];
          scores = tensor.arraySync() as number[][];
          if (out instanceof tf.Tensor) out.dispose();
          else Object.values(out).forEach((t) => t.dispose());
        } finally {
          Object.values(feeds).forEach((t) => t.dispose());
        }
        return batch.format === 'instances' ? { predictions: scores } : { outputs: scores };
      } catch (err) {
        if (err instanceof BadRequestError) return fail(reply, err.status, err.message);
        // TensorFlow rejects ids beyond the embedding tables (gather's
        // bounds check); TF Serving answers those with a 400 too.
        return fail(reply, 400, (err as Error).message.split('\n')[0]);
      }
    }

    if (method !== 'GET') return fail(reply, 404, `Malformed request: ${method} ${url}`);
    if (action === '/metadata') {
      const servable = manager.servable(version);
      if (!servable) return fail(reply, 404, notFound(name, version));
      return metadataBody(name, servable.version, servable.signature);
    }
    if (version === undefined) {
      const statuses = manager.statusList();
      if (statuses.length === 0) return fail(reply, 404, notFound(name));
      return versionStatusBody(statuses);
    }
    const status = manager.status(version);
    if (!status) return fail(reply, 404, notFound(name, version));
    return versionStatusBody([status]);
  };

  app.get('/v1/models/*', (req, reply) => handle('GET', req.url, undefined, reply));
  app.post('/v1/models/*', (req, reply) => handle('POST', req.url, req.body, reply));

  manager.start();
  await app.listen({ host: opts.host, port: opts.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  return {
    url: `http://${opts.host}:${port}`,
    manager,
    app,
    close: async () => {
      await app.close();
      await manager.close();
    },
  };
}
