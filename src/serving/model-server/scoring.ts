/**
 * Answers valid requests with the current model: the requests of a chunk
 * share columnar predict calls of up to PREDICT_MAX_ROWS rows (scoreRequests;
 * ids outside the model's tables are screened first, a refused call is
 * bisected), retried with back-off while the slot is unavailable; a single
 * request is one call (scoreRequest). A definitive rejection becomes a
 * popularity fallback, or an error result when no popularity ranking is
 * known. "Unavailable" is returned (never a result) when the retries run
 * out: the caller must not commit the request.
 */
import type { RecommendationRequest } from '../../messaging/schemas';
import { backoffDelay, sleep, type BackoffPolicy } from '../backoff';
import type { ActiveModel } from './current-model';
import type { LoadPopularity, PerVersion, TableSizes } from './popularity-source';
import type { PredictClient } from './predict-client';
import { rankByPopularity, rankByScore } from './ranking';
import type { ResultBody } from '../../messaging/result';
import { answerWithoutModel, NO_MODEL, type LoadInitialPopularity } from './first-model-fallback';
import { isVisit } from './request-validation';
import { expandVisits, mergeParts } from './visits';

export interface RetryPolicy extends BackoffPolicy {
  /** predict attempts per request before the request is left for a later round */
  attempts: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 4, initialMs: 100, maxMs: 2_000 };

export type ScoreOutcome =
  | {
      kind: 'answered';
      model: ActiveModel;
      body: ResultBody;
      retries: number;
      /** a visit: the product rows of the catalogue it was ranked over (the popularity shadow ranks the same) */
      catalogueRows?: number;
    }
  | { kind: 'unavailable'; model: ActiveModel | undefined; error: string; retries: number };

export interface ScoringDeps {
  currentModel: () => ActiveModel | undefined;
  predict: PredictClient['predict'];
  loadPopularity: LoadPopularity | undefined;
  retry: RetryPolicy;
  /** aborted at shutdown: pending retries give up at once */
  signal?: AbortSignal;
  random?: () => number;
}

export interface BatchScoringDeps extends ScoringDeps {
  /** the tables of a model version (from its lineage): requests with ids beyond them are answered without a predict call */
  tableSizes?: PerVersion<TableSizes>;
  /** most (user, product) rows in one predict call (the slot's batch limit) */
  maxRows: number;
  predictRows: PredictClient['predictRows'];
  /** predict calls in flight at once */
  callsInFlight: number;
  /** set: requests that arrive before any model are answered from this ranking at once (not retried) */
  beforeFirstModel?: LoadInitialPopularity;
}

/** Consecutive requests whose products fit in one predict call of at most `maxRows` rows. */
export function groupByRows(requests: readonly RecommendationRequest[], maxRows: number): { from: number; to: number }[] {
  const groups: { from: number; to: number }[] = [];
  let from = 0;
  let rows = 0;
  requests.forEach((r, i) => {
    if (i > from && rows + r.products.length > maxRows) {
      groups.push({ from, to: i });
      from = i;
      rows = 0;
    }
    rows += r.products.length;
  });
  if (requests.length > from) groups.push({ from, to: requests.length });
  return groups;
}

/** Why `request` has an id beyond the model's tables, or undefined when all are inside. */
export function outsideTables(request: RecommendationRequest, sizes: TableSizes): string | undefined {
  if (request.user >= sizes.userRows) return `user ${request.user} is outside the model's tables (users 0..${sizes.userRows - 1})`;
  const p = request.products.find((id) => id >= sizes.productRows);
  return p === undefined ? undefined : `product ${p} is outside the model's tables (products 0..${sizes.productRows - 1})`;
}

async function tablesOf(model: ActiveModel | undefined, deps: BatchScoringDeps): Promise<TableSizes | undefined> {
  if (!model || !deps.tableSizes || model.slot === null || model.version === null) return undefined;
  return deps.tableSizes(model.slot, model.version);
}

/**
 * Scores a chunk's requests (in offset order), visits included: each visit
 * becomes its model's whole catalogue in parts of at most `maxRows`
 * products (visits.ts); every answer is cut to its request's `top`.
 */
export async function scoreChunk(requests: readonly RecommendationRequest[], deps: BatchScoringDeps): Promise<ScoreOutcome[]> {
  const model = deps.currentModel();
  const sizes = requests.some(isVisit) ? await tablesOf(model, deps) : undefined;
  const expanded = expandVisits(requests, sizes?.productRows, model !== undefined, deps.maxRows);
  const outcomes = expanded.parts.length > 0 ? await scoreRequests(expanded.parts, deps) : [];
  return mergeParts(requests, expanded, outcomes, model, sizes?.productRows);
}

/**
 * Scores `requests` (in offset order) with as few predict calls as
 * `maxRows` allows: the products of many requests go into one columnar
 * call, and its scores are split back per request. A request with an id
 * beyond the model's tables (known from its lineage) is answered by the
 * fallback without a call: one bad id must not fail a whole batch. Once a
 * call stays unavailable through its retries, it and every later request
 * come back unavailable (the caller must not commit them).
 */
export async function scoreRequests(requests: readonly RecommendationRequest[], deps: BatchScoringDeps): Promise<ScoreOutcome[]> {
  if (deps.beforeFirstModel && !deps.currentModel()) {
    const ranking = await deps.beforeFirstModel();
    // once a model exists (it may have arrived during the lookup) the model answers
    if (!deps.currentModel()) {
      // Without a ranking either, the requests wait (uncommitted, retried after a cool-down) as if held.
      if (!ranking) {
        const error = 'no model has been published yet and no popularity ranking is known yet';
        return requests.map(() => ({ kind: 'unavailable', model: undefined, error, retries: 0 }));
      }
      const model = { ...NO_MODEL, description: '', since: new Date(0) };
      return requests.map((r) => ({ kind: 'answered', model, body: answerWithoutModel(r, ranking), retries: 0 }));
    }
  }
  const out = new Array<ScoreOutcome>(requests.length);
  const model = deps.currentModel();
  const sizes = await tablesOf(model, deps);
  const toScore: number[] = [];
  for (let i = 0; i < requests.length; i++) {
    const why = sizes && outsideTables(requests[i], sizes);
    if (why && model) out[i] = { kind: 'answered', model, body: await fallback(requests[i], model, why, deps.loadPopularity), retries: 0 };
    else toScore.push(i);
  }
  const scored = await scoreInGroups(
    toScore.map((i) => requests[i]),
    deps,
  );
  toScore.forEach((i, j) => (out[i] = scored[j]));
  // an unavailable request holds back every later one, those answered without a call too
  const stuck = out.findIndex((o) => o.kind === 'unavailable');
  for (let i = stuck + 1; stuck >= 0 && i < out.length; i++) {
    if (out[i].kind !== 'unavailable')
      out[i] = { kind: 'unavailable', model: undefined, error: 'an earlier request is unavailable', retries: 0 };
  }
  return out;
}

async function scoreInGroups(requests: readonly RecommendationRequest[], deps: BatchScoringDeps): Promise<ScoreOutcome[]> {
  const out = new Array<ScoreOutcome>(requests.length);
  const groups = groupByRows(requests, deps.maxRows);
  let next = 0;
  let stuckAt = Number.POSITIVE_INFINITY;
  const worker = async (): Promise<void> => {
    while (next < groups.length && groups[next].from < stuckAt) {
      const g = groups[next++];
      const part = await scoreGroup(requests.slice(g.from, g.to), deps);
      part.forEach((o, i) => (out[g.from + i] = o));
      const firstStuck = part.findIndex((o) => o.kind === 'unavailable');
      if (firstStuck >= 0) stuckAt = Math.min(stuckAt, g.from + firstStuck);
    }
  };
  await Promise.all(Array.from({ length: Math.min(deps.callsInFlight, groups.length) }, worker));
  // Calls already in flight past the stuck request finished, but are dropped: an
  // answer must not be committed ahead of an earlier unanswered request.
  for (let i = 0; i < out.length; i++) {
    if (out[i] === undefined || i > stuckAt)
      out[i] = { kind: 'unavailable', model: undefined, error: 'an earlier request is unavailable', retries: 0 };
  }
  return out;
}

/**
 * A call the model rejected (one request's ids outside its tables fails the
 * whole call): each half is called again, so a bad request is found in
 * about 2·log2(n) calls rather than n (issue 24, item 7), and only it falls back.
 */
async function bisect(group: readonly RecommendationRequest[], deps: BatchScoringDeps): Promise<ScoreOutcome[]> {
  const mid = group.length >> 1;
  const left = await scoreGroup(group.slice(0, mid), deps);
  if (left.some((o) => o.kind === 'unavailable')) {
    return [
      ...left,
      ...group.slice(mid).map((): ScoreOutcome => ({ kind: 'unavailable', model: undefined, error: 'not scored', retries: 0 })),
    ];
  }
  return [...left, ...(await scoreGroup(group.slice(mid), deps))];
}

async function scoreGroup(group: readonly RecommendationRequest[], deps: BatchScoringDeps): Promise<ScoreOutcome[]> {
  if (group.length === 1) return [await scoreRequest(group[0], deps)];
  const users: number[] = [];
  const products: number[] = [];
  for (const r of group) {
    for (const p of r.products) {
      users.push(r.user);
      products.push(p);
    }
  }
  let lastError = 'no model has been published on the models topic yet';
  let model: ActiveModel | undefined;
  for (let attempt = 0; attempt < deps.retry.attempts; attempt++) {
    if (attempt > 0 && !(await sleep(backoffDelay(attempt - 1, deps.retry, deps.random), deps.signal))) {
      return group.map((_, i) => ({
        kind: 'unavailable',
        model,
        error: `shutting down; last error: ${lastError}`,
        retries: i === 0 ? attempt - 1 : 0,
      }));
    }
    model = deps.currentModel();
    if (!model) continue;
    const outcome = await deps.predictRows(model.url, users, products);
    if (outcome.kind === 'ok') {
      const m = model;
      let at = 0;
      return group.map((r, i) => {
        const scores = outcome.scores.slice(at, (at += r.products.length));
        // the call's retries are counted once, on its first request
        return {
          kind: 'answered',
          model: m,
          body: { outcome: 'scored', ranked: rankByScore(r.products, scores) },
          retries: i === 0 ? attempt : 0,
        };
      });
    }
    if (outcome.kind === 'rejected') return bisect(group, deps);
    lastError = `${model.url}: ${outcome.error}`;
  }
  return group.map((_, i) => ({
    kind: 'unavailable',
    model,
    error: lastError,
    retries: i === 0 ? Math.max(0, deps.retry.attempts - 1) : 0,
  }));
}

export async function scoreRequest(request: RecommendationRequest, deps: ScoringDeps): Promise<ScoreOutcome> {
  let lastError = 'no model has been published on the models topic yet';
  let model: ActiveModel | undefined;
  for (let attempt = 0; attempt < deps.retry.attempts; attempt++) {
    if (attempt > 0 && !(await sleep(backoffDelay(attempt - 1, deps.retry, deps.random), deps.signal))) {
      return { kind: 'unavailable', model, error: `shutting down; last error: ${lastError}`, retries: attempt - 1 };
    }
    model = deps.currentModel();
    if (!model) continue;
    const outcome = await deps.predict(model.url, request.user, request.products);
    if (outcome.kind === 'ok') {
      return {
        kind: 'answered',
        model,
        body: { outcome: 'scored', ranked: rankByScore(request.products, outcome.scores) },
        retries: attempt,
      };
    }
    if (outcome.kind === 'rejected') {
      const reason = `the model rejected the request: ${outcome.error}`;
      return { kind: 'answered', model, body: await fallback(request, model, reason, deps.loadPopularity), retries: attempt };
    }
    lastError = `${model.url}: ${outcome.error}`;
  }
  return { kind: 'unavailable', model, error: lastError, retries: Math.max(0, deps.retry.attempts - 1) };
}

async function fallback(
  request: RecommendationRequest,
  model: ActiveModel,
  reason: string,
  loadPopularity: LoadPopularity | undefined,
): Promise<ResultBody> {
  if (!loadPopularity) return { outcome: 'error', error: `${reason}; no popularity source is configured` };
  if (model.slot === null || model.version === null) {
    return { outcome: 'error', error: `${reason}; no popularity ranking: the model URL names no version` };
  }
  let order: number[] | undefined;
  try {
    order = await loadPopularity(model.slot, model.version);
  } catch (err) {
    return { outcome: 'error', error: `${reason}; reading the popularity ranking failed: ${(err as Error).message}` };
  }
  if (!order) return { outcome: 'error', error: `${reason}; no popularity ranking is known for ${model.slot} version ${model.version}` };
  return { outcome: 'fallback', ranked: rankByPopularity(request.products, order), reason };
}
