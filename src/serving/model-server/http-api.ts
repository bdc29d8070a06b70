/**
 * The model server's REST side: `GET /state` (the seed's serving
 * statistics), `GET /metrics` (Prometheus) and `GET /healthz`.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { ModelUsage } from './usage-stats';

export interface ServerState {
  startedAt: string;
  /** the model answering requests now; null until a descriptor has been published */
  current: { name: string; description: string; url: string; slot: string | null; version: number | null; since: string } | null;
  /** per-model usage, newest model first */
  models: ModelUsage[];
  /** request records sent to the dead-letter topic since start */
  deadLetters: number;
  /** whether the requests consumer is in its group and fetching */
  consuming: boolean;
  /** records on the models topic skipped since start: unusable (undecodable, bad URL, not under a configured slot) or set aside (a version the slot cannot serve) */
  descriptorsRejected: number;
}

export interface Health {
  ok: boolean;
  /** serving, but something needs a look (a descriptor was set aside): still HTTP 200 */
  degraded: boolean;
  problems: string[];
  model: boolean;
  consuming: boolean;
}

export interface HttpApiDeps {
  state: () => ServerState;
  health: () => Health;
  registry: Registry;
}

export function buildHttpApi(deps: HttpApiDeps): FastifyInstance {
  const app = Fastify({ logger: false });
  app.get('/state', async () => deps.state());
  app.get('/metrics', async (_req, reply) => {
    const body = await deps.registry.metrics();
    return reply.header('content-type', deps.registry.contentType).send(body);
  });
  app.get('/healthz', async (_req, reply) => {
    const h = deps.health();
    // Waiting for the first model is healthy (nothing to fix); a dead consumer is not.
    // Degraded (a descriptor set aside) stays 200: a restart would not fix it.
    const status = !h.ok ? 'failing' : h.degraded ? 'degraded' : 'ok';
    return reply.code(h.ok ? 200 : 503).send({ status, ...h });
  });
  return app;
}
