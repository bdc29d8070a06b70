/**
 * TF-Serving predict calls in the columnar ("inputs") form: one row per
 * (user, product) pair, so one call can score the products of many
 * requests (the model server batches a Kafka batch into as few calls as
 * the slot's row limit allows). Uses node:http with keep-alive agents
 * (not fetch) because a connection set-up per call would dominate the
 * latency of a ~1 ms prediction. The outcome is classified, never thrown:
 *   ok          — one score per product;
 *   rejected    — the model answered and refused (400: ids outside its
 *                 tables, oversized request, …): retrying cannot help;
 *   unavailable — no answer or a transient one (connection refused,
 *                 timeout, 5xx, 404 while a version is (re)loading, 429):
 *                 the request must be retried, not answered.
 */
import http from 'node:http';
import https from 'node:https';

export type PredictOutcome =
  | { kind: 'ok'; scores: number[] }
  | { kind: 'rejected'; status: number; error: string }
  | { kind: 'unavailable'; status: number | null; error: string };

export interface PredictClient {
  /** scores every product of one request (one call) */
  predict(url: string, user: number, products: readonly number[]): Promise<PredictOutcome>;
  /** scores row i = (users[i], products[i]) for every i (one call) */
  predictRows(url: string, users: readonly number[], products: readonly number[]): Promise<PredictOutcome>;
  /** closes idle keep-alive connections */
  close(): void;
}

export interface PredictClientOptions {
  /** whole-call deadline, ms */
  timeoutMs?: number;
  /** concurrent connections per slot */
  maxSockets?: number;
  /** a larger answer is treated as a broken model response */
  maxResponseBytes?: number;
}

/** TF Serving's columnar ("inputs") format for one request: the same user in each row. */
export function predictBody(user: number, products: readonly number[]): string {
  return predictRowsBody(
    products.map(() => user),
    products,
  );
}

/** TF Serving's columnar ("inputs") format: `{"inputs":{"users":[[u],…],"products":[[p],…]}}`. */
export function predictRowsBody(users: readonly number[], products: readonly number[]): string {
  // Built by hand: the ids are safe integers (validated), and JSON.stringify
  // of 2 × 20,000 one-element arrays costs more than the string joins.
  return `{"signature_name":"serving_default","inputs":{"users":[[${users.join('],[')}]],"products":[[${products.join('],[')}]]}}`;
}

/** HTTP statuses that mean "not now" rather than "never": the request is retried. */
function isTransientStatus(status: number): boolean {
  return status >= 500 || status === 404 || status === 408 || status === 429;
}

function errorMessage(body: string): string {
  try {
    const parsed: unknown = JSON.parse(body);
    if (parsed && typeof parsed === 'object' && 'error' in parsed && typeof parsed.error === 'string') return parsed.error;
  } catch {
    // not JSON: fall through to the raw text
  }
  return body.length > 500 ? `${body.slice(0, 500)}…` : body;
}

/**
 * Reads a `{"predictions":[[s], …]}` (row request) or `{"outputs":[[s], …]}`
 * (columnar request) answer; single-output signature: the bare list, as TF Serving returns.
 */
export function classifyPredictResponse(status: number, body: string, expected: number): PredictOutcome {
  if (status !== 200) {
    const error = `HTTP ${status}: ${errorMessage(body) || 'no body'}`;
    return isTransientStatus(status) ? { kind: 'unavailable', status, error } : { kind: 'rejected', status, error };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return { kind: 'rejected', status, error: `the predict response is not JSON: ${errorMessage(body)}` };
  }
  const predictions =
    parsed && typeof parsed === 'object'
      ? 'outputs' in parsed
        ? parsed.outputs
        : 'predictions' in parsed
          ? parsed.predictions
          : undefined
      : undefined;
  if (!Array.isArray(predictions))
    return { kind: 'rejected', status, error: 'the predict response has no "outputs" or "predictions" list' };
  if (predictions.length !== expected) {
    return { kind: 'rejected', status, error: `the model returned ${predictions.length} predictions for ${expected} products` };
  }
  const scores = new Array<number>(expected);
  for (let i = 0; i < expected; i++) {
    const p: unknown = predictions[i];
    const value: unknown = Array.isArray(p) && p.length === 1 ? p[0] : p;
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      return { kind: 'rejected', status, error: `prediction ${i} is not a finite number: ${JSON.stringify(p)}` };
    }
    scores[i] = value;
  }
  return { kind: 'ok', scores };
}

/** An answer too large to be a prediction for this request: deterministic, so not retried. */
class ResponseTooLarge extends Error {}

interface RawResponse {
  status: number;
  body: string;
}

export function createPredictClient(options: PredictClientOptions = {}): PredictClient {
  const timeoutMs = options.timeoutMs ?? 5_000;
  const maxResponseBytes = options.maxResponseBytes ?? 8 * 1024 * 1024;
  const agentOptions = { keepAlive: true, maxSockets: options.maxSockets ?? 64, maxFreeSockets: options.maxSockets ?? 64 };
  const agents = { http: new http.Agent(agentOptions), https: new https.Agent(agentOptions) };

  function post(url: URL, payload: string, firstTry: boolean): Promise<RawResponse> {
    const transport = url.protocol === 'https:' ? https : http;
    return new Promise<RawResponse>((resolve, reject) => {
      let settled = false;
      let response: http.IncomingMessage | undefined;
      const settle = (outcome: () => void): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        outcome();
      };
      // Errors are delivered through settle(), then the exchange is torn down
      // without an error object: once a response has arrived the socket may
      // already be back in the agent's pool, where an error has no listener.
      const abandon = (err: Error): void => {
        settle(() => reject(err));
        if (response) response.destroy();
        else req.destroy();
      };
      const req = transport.request(url, {
        method: 'POST',
        agent: url.protocol === 'https:' ? agents.https : agents.http,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
      });
      const timer = setTimeout(() => abandon(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      req.on('response', (res) => {
        response = res;
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxResponseBytes) abandon(new ResponseTooLarge(`the predict response exceeds ${maxResponseBytes} bytes`));
          else chunks.push(chunk);
        });
        res.on('end', () => settle(() => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') })));
        res.on('error', (err) => settle(() => reject(err)));
      });
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (settled) return;
        // A kept-alive connection the server closed while idle: the request never
        // reached the server, so sending it once more on a fresh socket is safe.
        if (firstTry && req.reusedSocket && err.code === 'ECONNRESET' && !response) {
          settled = true;
          clearTimeout(timer);
          post(url, payload, false).then(resolve, reject);
          return;
        }
        settle(() => reject(err));
      });
      req.end(payload);
    });
  }

  async function call(url: string, body: string, rows: number): Promise<PredictOutcome> {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      return { kind: 'unavailable', status: null, error: `not a URL: ${url}` };
    }
    try {
      const res = await post(target, body, true);
      return classifyPredictResponse(res.status, res.body, rows);
    } catch (err) {
      if (err instanceof ResponseTooLarge) return { kind: 'rejected', status: 200, error: err.message };
      const e = err as NodeJS.ErrnoException;
      return { kind: 'unavailable', status: null, error: e.code ? `${e.code}: ${e.message}` : e.message };
    }
  }

  return {
    predict: (url, user, products) => call(url, predictBody(user, products), products.length),
    predictRows: (url, users, products) => call(url, predictRowsBody(users, products), users.length),
    close() {
      agents.http.destroy();
      agents.https.destroy();
    },
  };
}
