/** The REST face of a long-running worker process (data publisher, online evaluator): Prometheus `/metrics` and `/healthz`. */
import Fastify, { type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';

/** `/healthz` answers 200 while `health().ok`, else 503, with the health as JSON. */
export function metricsAndHealthApi(health: () => { ok: boolean }, registry: Registry): FastifyInstance {
  const app = Fastify({ logger: false });
  app.get('/metrics', async (_req, reply) => reply.header('content-type', registry.contentType).send(await registry.metrics()));
  app.get('/healthz', async (_req, reply) => {
    const h = health();
    return reply.code(h.ok ? 200 : 503).send({ status: h.ok ? 'ok' : 'failing', ...h });
  });
  return app;
}
