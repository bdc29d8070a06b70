/**
 * The slot's REST API, TF Serving's subset of docs/design.md: routes, body
 * parsing and status codes. Everything else (which servable, statuses,
 * predict with batching, metrics) is the prediction service's, shared with
 * the gRPC API.
 *
 * Status codes follow TF Serving's mapping of its error codes: a malformed
 * request (bad path or method under /v1/, bad JSON, bad ids, too many rows)
 * is InvalidArgument → 400; only an unknown model or version is 404. A body
 * over the size limit is refused with 413 before it is read whole.
 */
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { PREDICT_METHOD } from '../../savedmodel/serving-contract';
import { BadRequestError, parsePredictBody, predictResponseBody, type PredictBatch } from './predict-request';
import { ServingError, type PredictionService } from './prediction-service';
import type { SlotMetrics } from './slot-metrics';
import { metadataBody, versionStatusBody } from './tf-serving-json';

export interface RestApiOptions {
  service: PredictionService;
  metrics: SlotMetrics;
  /** most rows one predict call may carry */
  maxRows: number;
  /** largest request body, in bytes */
  bodyLimit: number;
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

const fail = (reply: FastifyReply, status: number, error: string) => reply.code(status).send({ error });

/** A version from the URL path; TF Serving's InvalidArgument when it is not a number. */
function parseVersion(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const v = Number(text);
  if (!Number.isSafeInteger(v)) throw new BadRequestError(`Failed to convert version: ${text} to numeric.`);
  return v;
}

/** The REST API as a Fastify app (not yet listening). */
export function createRestApi({ service, metrics, maxRows, bodyLimit }: RestApiOptions): FastifyInstance {
  const app = Fastify({ bodyLimit, logger: false });
  // TF Serving accepts any content type; the body is parsed (and rejected) here.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));

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

  return app;
}
