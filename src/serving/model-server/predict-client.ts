/**
 * TF-Serving predict calls in the columnar ("inputs") form: one row per
 * (user, product) pair, so one call can score the products of many
 * requests (the model server batches a Kafka batch into as few calls as
 * the slot's row limit allows). Uses an undici Pool per slot origin:
 * kept-alive connections, because a connection set-up per call would
 * dominate the latency of a ~1 ms prediction (measured against the former
 * node:http client in docs/serving.md). The outcome is classified, never thrown:
 *   ok          — one score per product;
 *   rejected    — the model answered and refused (400: ids outside its
 *                 tables, oversized request, …): retrying cannot help;
 *   unavailable — no answer or a transient one (connection refused,
 *                 timeout, 5xx, 404 while a version is (re)loading, 429):
 *                 the request must be retried, not answered.
 */
import { Pool } from 'undici';
import { SIGNATURE_NAME } from '../../savedmodel/serving-contract';

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
  return `{"signature_name":"${SIGNATURE_NAME}","inputs":{"users":[[${users.join('],[')}]],"products":[[${products.join('],[')}]]}}`;
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

interface RawResponse {
  status: number;
  body: string;
}

/** Error codes of a connection that failed before any answer arrived (for the one resend). */
const RESENDABLE = new Set(['UND_ERR_SOCKET', 'ECONNRESET']);

export function createPredictClient(options: PredictClientOptions = {}): PredictClient {
  const timeoutMs = options.timeoutMs ?? 5_000;
  const maxResponseBytes = options.maxResponseBytes ?? 8 * 1024 * 1024;
  const connections = options.maxSockets ?? 64;
  // One pool per slot origin (scheme://host:port): the URL's path carries the slot and version.
  const pools = new Map<string, Pool>();
  const poolFor = (origin: string): Pool => {
    let pool = pools.get(origin);
    if (!pool) {
      // pipelining 1: one request at a time per connection, as TF Serving expects;
      // maxResponseSize: undici stops reading (and drops the connection) past the limit.
      pool = new Pool(origin, { connections, pipelining: 1, maxResponseSize: maxResponseBytes });
      pools.set(origin, pool);
    }
    return pool;
  };

  async function post(url: URL, payload: string, signal: AbortSignal, firstTry: boolean): Promise<RawResponse> {
    let status: number | undefined;
    try {
      const res = await poolFor(url.origin).request({
        path: url.pathname + url.search,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: payload,
        signal,
      });
      status = res.statusCode;
      return { status, body: await res.body.text() };
    } catch (err) {
      // A kept-alive connection the slot closed while idle fails before any answer.
      // A predict call has no side effects, so sending it once more is safe.
      const code = (err as NodeJS.ErrnoException).code;
      if (firstTry && status === undefined && !signal.aborted && code !== undefined && RESENDABLE.has(code))
        return post(url, payload, signal, false);
      throw err;
    }
  }

  async function call(url: string, body: string, rows: number): Promise<PredictOutcome> {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      return { kind: 'unavailable', status: null, error: `not a URL: ${url}` };
    }
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), timeoutMs);
    try {
      const res = await post(target, body, deadline.signal, true);
      return classifyPredictResponse(res.status, res.body, rows);
    } catch (err) {
      if (deadline.signal.aborted) return { kind: 'unavailable', status: null, error: `no answer within ${timeoutMs} ms` };
      const e = err as NodeJS.ErrnoException;
      if (e.code === 'UND_ERR_RES_EXCEEDED_MAX_SIZE')
        return { kind: 'rejected', status: 200, error: `the predict response exceeds ${maxResponseBytes} bytes` };
      return { kind: 'unavailable', status: null, error: e.code ? `${e.code}: ${e.message}` : e.message };
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    predict: (url, user, products) => call(url, predictBody(user, products), products.length),
    predictRows: (url, users, products) => call(url, predictRowsBody(users, products), users.length),
    close() {
      for (const pool of pools.values()) void pool.destroy().catch(() => undefined);
      pools.clear();
    },
  };
}
