import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { checkDescriptor, type ActiveModel } from '../../src/serving/model-server/current-model';
import { createPredictClient, type PredictOutcome } from '../../src/serving/model-server/predict-client';
import { scoreRequest, type ScoringDeps } from '../../src/serving/model-server/scoring';

function model(version: number, slot = 'recommender'): ActiveModel {
  const c = checkDescriptor({ name: slot, description: '', url: `http://127.0.0.1:1/v1/models/${slot}/versions/${version}:predict` });
  if (!c.ok) throw new Error(c.reason);
  return { ...c.model, since: new Date() };
}

const fast = { attempts: 3, initialMs: 1, maxMs: 2 };

function deps(answers: PredictOutcome[], over: Partial<ScoringDeps> = {}): ScoringDeps & { urls: string[] } {
  const urls: string[] = [];
  const m = model(7);
  return {
    urls,
    currentModel: () => m,
    predict: async (url) => {
      urls.push(url);
      const next = answers.shift();
      if (!next) throw new Error('unexpected predict call');
      return next;
    },
    loadPopularity: async () => [2, 1, 0],
    retry: fast,
    ...over,
  };
}

describe('scoreRequest', () => {
  it('ranks with one predict call', async () => {
    const d = deps([{ kind: 'ok', scores: [0.1, 0.7, 0.3] }]);
    const out = await scoreRequest({ user: 1, products: [0, 1, 2] }, d);
    expect(out).toMatchObject({
      kind: 'answered',
      retries: 0,
      body: { outcome: 'scored', ranked: [{ product: 1 }, { product: 2 }, { product: 0 }] },
    });
    expect(d.urls).toHaveLength(1);
  });

  it('retries an unavailable slot and answers once it recovers', async () => {
    const d = deps([
      { kind: 'unavailable', status: 503, error: 'HTTP 503' },
      { kind: 'unavailable', status: null, error: 'ECONNREFUSED' },
      { kind: 'ok', scores: [1] },
    ]);
    expect(await scoreRequest({ user: 1, products: [5] }, d)).toMatchObject({ kind: 'answered', retries: 2 });
  });

  it('reports unavailable (no result) when the retries run out', async () => {
    const d = deps(Array.from({ length: 3 }, () => ({ kind: 'unavailable' as const, status: 500, error: 'HTTP 500: boom' })));
    const out = await scoreRequest({ user: 1, products: [5] }, d);
    expect(out).toMatchObject({ kind: 'unavailable', retries: 2 });
    expect(out.kind === 'unavailable' && out.error).toMatch(/HTTP 500: boom/);
  });

  it('moves to a newly published model between attempts', async () => {
    let current = model(1, 'recommender');
    const d = deps(
      [
        { kind: 'unavailable', status: 503, error: 'down' },
        { kind: 'ok', scores: [0.5] },
      ],
      {
        currentModel: () => current,
      },
    );
    const predict = d.predict;
    d.predict = async (url, user, products) => {
      const out = await predict(url, user, products);
      current = model(2, 'recommender1');
      return out;
    };
    const out = await scoreRequest({ user: 1, products: [5] }, d);
    expect(d.urls).toEqual([model(1).url, model(2, 'recommender1').url]);
    expect(out.kind === 'answered' && out.model.version).toBe(2);
  });

  it('answers a rejection with the popularity ranking of the served version', async () => {
    const asked: string[] = [];
    const d = deps([{ kind: 'rejected', status: 400, error: 'HTTP 400: indices[0] = 500 is not in [0, 300)' }], {
      loadPopularity: async (slot, version) => {
        asked.push(`${slot}/${version}`);
        return [2, 500, 1];
      },
    });
    const out = await scoreRequest({ user: 1, products: [1, 500, 2, 999] }, d);
    expect(asked).toEqual(['recommender/7']);
    expect(out).toMatchObject({
      kind: 'answered',
      body: { outcome: 'fallback', reason: expect.stringMatching(/rejected the request: HTTP 400: indices/) as unknown },
    });
    expect(out.kind === 'answered' && out.body.outcome === 'fallback' && out.body.ranked.map((r) => r.product)).toEqual([2, 500, 1, 999]);
  });

  it('answers with an error result when no popularity ranking is known or the store fails', async () => {
    const rejected: PredictOutcome = { kind: 'rejected', status: 400, error: 'HTTP 400: bad' };
    const none = await scoreRequest({ user: 1, products: [1] }, deps([rejected], { loadPopularity: async () => undefined }));
    expect(none).toMatchObject({
      kind: 'answered',
      body: { outcome: 'error', error: expect.stringMatching(/no popularity ranking is known for recommender version 7/) as unknown },
    });
    const failing = await scoreRequest(
      { user: 1, products: [1] },
      deps([rejected], {
        loadPopularity: async () => {
          throw new Error('minio down');
        },
      }),
    );
    expect(failing).toMatchObject({ body: { outcome: 'error', error: expect.stringMatching(/minio down/) as unknown } });
    const unconfigured = await scoreRequest({ user: 1, products: [1] }, deps([rejected], { loadPopularity: undefined }));
    expect(unconfigured).toMatchObject({ body: { outcome: 'error', error: expect.stringMatching(/no popularity source/) as unknown } });
  });

  it('gives up at once when shutting down', async () => {
    const stop = new AbortController();
    const d = deps([{ kind: 'unavailable', status: 503, error: 'down' }], {
      retry: { attempts: 5, initialMs: 60_000, maxMs: 60_000 },
      signal: stop.signal,
    });
    const started = Date.now();
    const pending = scoreRequest({ user: 1, products: [1] }, d);
    setTimeout(() => stop.abort(), 20);
    expect(await pending).toMatchObject({ kind: 'unavailable', error: expect.stringMatching(/shutting down/) as unknown });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('waits (unavailable) while no model is known', async () => {
    const d = deps([], { currentModel: () => undefined });
    expect(await scoreRequest({ user: 1, products: [1] }, d)).toMatchObject({ kind: 'unavailable', model: undefined });
  });
});

describe('predict client over HTTP', () => {
  let server: http.Server | undefined;
  afterEach(async () => {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  });

  async function serve(handler: http.RequestListener): Promise<string> {
    server = http.createServer(handler);
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/models/m/versions/1:predict`;
  }

  it('posts the instances and reuses kept-alive connections', async () => {
    const sockets = new Set<unknown>();
    const bodies: unknown[] = [];
    const url = await serve((req, res) => {
      sockets.add(req.socket);
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const parsed = JSON.parse(body) as { inputs: { products: number[][] } };
        bodies.push(parsed);
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ outputs: parsed.inputs.products.map((p) => [p[0] / 10]) }));
      });
    });
    const client = createPredictClient();
    try {
      for (let i = 0; i < 20; i++) expect(await client.predict(url, 3, [1, 2])).toEqual({ kind: 'ok', scores: [0.1, 0.2] });
    } finally {
      client.close();
    }
    expect(bodies[0]).toEqual({ signature_name: 'serving_default', inputs: { users: [[3], [3]], products: [[1], [2]] } });
    // 20 calls one after another, 2 connections: undici's pool counts a connection
    // busy until one event-loop turn after its answer, so the 2nd call opens a 2nd
    expect(sockets.size).toBeLessThanOrEqual(2);
  });

  it('sends a call once more when a kept-alive connection dies before any answer', async () => {
    // the slot drops the first reused connection on receipt, as one closing an idle socket races a new call
    const served = new WeakMap<object, number>();
    let dropped = 0;
    const url = await serve((req, res) => {
      const n = (served.get(req.socket) ?? 0) + 1;
      served.set(req.socket, n);
      if (n > 1 && dropped === 0) {
        dropped += 1;
        req.socket.destroy();
        return;
      }
      req.resume();
      req.on('end', () => res.end(JSON.stringify({ outputs: [[0.5]] })));
    });
    const client = createPredictClient();
    try {
      for (let i = 0; i < 6; i++) expect(await client.predict(url, 1, [1])).toEqual({ kind: 'ok', scores: [0.5] });
    } finally {
      client.close();
    }
    expect(dropped).toBe(1);
  });

  it('classifies a slow slot, a refused connection and a bad URL as unavailable', async () => {
    const url = await serve(() => undefined); // never answers
    const client = createPredictClient({ timeoutMs: 100 });
    try {
      expect(await client.predict(url, 1, [1])).toMatchObject({
        kind: 'unavailable',
        error: expect.stringMatching(/no answer within 100 ms/) as unknown,
      });
      expect(await client.predict('http://127.0.0.1:1/v1/models/m/versions/1:predict', 1, [1])).toMatchObject({
        kind: 'unavailable',
        error: expect.stringMatching(/ECONNREFUSED/) as unknown,
      });
      expect((await client.predict('::nope', 1, [1])).kind).toBe('unavailable');
    } finally {
      client.close();
    }
  });

  it('stops reading an oversized answer', async () => {
    const url = await serve((_req, res) => {
      res.end(JSON.stringify({ predictions: Array.from({ length: 10_000 }, () => [0.5]) }));
    });
    const client = createPredictClient({ maxResponseBytes: 1000 });
    try {
      expect(await client.predict(url, 1, [1])).toMatchObject({
        kind: 'rejected',
        error: expect.stringMatching(/exceeds 1000 bytes/) as unknown,
      });
    } finally {
      client.close();
    }
  });
});
