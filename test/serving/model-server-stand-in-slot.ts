/**
 * STAND-IN for the real model slot (src/serving/slot, being written by the
 * lead): a small fastify server that implements the TF Serving predict
 * contract of docs/design.md, with deterministic scores, so the model server can
 * be tested end to end before the real slot exists. Once it does, the
 * integration tests only need a `SlotUnderTest` (predict URLs + a way to
 * make it fail) backed by startSlotServer instead of this.
 *
 *   POST /v1/models/{name}/versions/{v}:predict
 *   {"signature_name":"serving_default","instances":[{"users":[3],"products":[17]}, …]}
 *   → {"predictions":[[0.12], …]}
 * Ids outside the model's tables → 400 {"error":"indices[0] = 500 is not in [0, 300) …"},
 * as TensorFlow's gather reports them; unknown model/version → 404.
 *
 * Runnable on its own for the benchmark:
 *   tsx test/serving/model-server-stand-in-slot.ts [port]   (serves recommender v1, 1000 users × 300 products)
 */
import Fastify, { type FastifyInstance } from 'fastify';

export interface StandInModel {
  name: string;
  version: number;
  /** rows of the user and product embedding tables */
  users: number;
  products: number;
}

export interface StandInSlot {
  baseUrl: string;
  predictUrl(name: string, version: number): string;
  /** predict calls received (any outcome) */
  calls(): number;
  /** answer every predict call with this HTTP status until cleared with null */
  failWith(status: number | null): void;
  close(): Promise<void>;
}

/** Deterministic score in (0, 1) that differs between versions, users and products. */
export function standInScore(version: number, user: number, product: number): number {
  let h = Math.imul(version + 1, 0x9e3779b1) ^ Math.imul(user + 1, 0x85ebca6b) ^ Math.imul(product + 1, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
  h ^= h >>> 13;
  return ((h >>> 0) % 1_000_003) / 1_000_003 + 1e-7;
}

interface Instance {
  users?: unknown;
  products?: unknown;
}

function idOf(value: unknown): number | undefined {
  const v = Array.isArray(value) && value.length === 1 ? (value[0] as unknown) : value;
  return typeof v === 'number' && Number.isInteger(v) ? v : undefined;
}

export async function startStandInSlot(models: StandInModel[], port = 0): Promise<StandInSlot> {
  const app: FastifyInstance = Fastify({ logger: false, bodyLimit: 8 * 1024 * 1024 });
  let calls = 0;
  let failure: number | null = null;
  const byKey = new Map(models.map((m) => [`${m.name}/${m.version}`, m]));

  app.post('/v1/models/*', async (req, reply) => {
    calls++;
    if (failure !== null) return reply.code(failure).send({ error: `stand-in slot failing with ${failure}` });
    const path = (req.params as { '*': string })['*'];
    const match = /^([^/:]+)\/versions\/(\d+):predict$/.exec(path);
    if (!match) return reply.code(404).send({ error: `unsupported path ${path}` });
    const model = byKey.get(`${match[1]}/${match[2]}`);
    if (!model) return reply.code(404).send({ error: `Servable not found for request: Specific(${match[1]}, ${match[2]})` });
    const body = req.body as { instances?: unknown; inputs?: { users?: unknown; products?: unknown } } | undefined;
    // Columnar ("inputs") requests are turned into rows; the answer is then "outputs", as TF Serving does.
    const columnar = body?.inputs !== undefined;
    const rows: unknown =
      columnar &&
      Array.isArray(body.inputs?.users) &&
      Array.isArray(body.inputs?.products) &&
      body.inputs.users.length === body.inputs.products.length
        ? body.inputs.users.map((u: unknown, i: number) => ({ users: u, products: (body.inputs!.products as unknown[])[i] }))
        : body?.instances;
    if (!body || !Array.isArray(rows) || rows.length === 0) {
      return reply.code(400).send({ error: 'Missing or empty "instances" / "inputs"' });
    }
    const predictions: number[][] = [];
    for (const [i, raw] of (rows as Instance[]).entries()) {
      const user = idOf(raw.users);
      const product = idOf(raw.products);
      if (user === undefined || product === undefined)
        return reply.code(400).send({ error: `instance ${i}: expected users:[int] and products:[int]` });
      if (user < 0 || user >= model.users) {
        return reply
          .code(400)
          .send({ error: `indices[${i}] = ${user} is not in [0, ${model.users})\n\t [[{{node model/user_embedding/embedding_lookup}}]]` });
      }
      if (product < 0 || product >= model.products) {
        return reply.code(400).send({
          error: `indices[${i}] = ${product} is not in [0, ${model.products})\n\t [[{{node model/product_embedding/embedding_lookup}}]]`,
        });
      }
      predictions.push([standInScore(model.version, user, product)]);
    }
    return columnar ? { outputs: predictions } : { predictions };
  });

  await app.listen({ port, host: '127.0.0.1' });
  const address = app.server.address();
  const baseUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : port}`;
  return {
    baseUrl,
    predictUrl: (name, version) => `${baseUrl}/v1/models/${name}/versions/${version}:predict`,
    calls: () => calls,
    failWith: (status) => {
      failure = status;
    },
    close: () => app.close(),
  };
}

if (require.main === module) {
  const port = Number(process.argv[2] ?? 8501);
  startStandInSlot([{ name: 'recommender', version: 1, users: 1000, products: 300 }], port).then(
    (slot) => console.log(`stand-in slot: ${slot.predictUrl('recommender', 1)}`),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
