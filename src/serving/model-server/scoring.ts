/**
 * Answers one valid request with the current model: one predict call for
 * all of its products, retried with back-off while the slot is unavailable;
 * a definitive rejection becomes a popularity fallback, or an error result
 * when no popularity ranking is known. "Unavailable" is returned (never a
 * result) when the retries run out: the caller must not commit the request.
 */
import type { RecommendationRequest } from '../../messaging/schemas';
import { backoffDelay, sleep, type BackoffPolicy } from './backoff';
import type { ActiveModel } from './current-model';
import type { LoadPopularity } from './popularity-source';
import type { PredictClient } from './predict-client';
import { rankByPopularity, rankByScore } from './ranking';
import type { ResultBody } from './result';

export interface RetryPolicy extends BackoffPolicy {
  /** predict attempts per request before the request is left for a later round */
  attempts: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 4, initialMs: 100, maxMs: 2_000 };

export type ScoreOutcome =
  | { kind: 'answered'; model: ActiveModel; body: ResultBody; retries: number }
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
      return { kind: 'answered', model, body: { outcome: 'scored', ranked: rankByScore(request.products, outcome.scores) }, retries: attempt };
    }
    if (outcome.kind === 'rejected') {
      return { kind: 'answered', model, body: await fallback(request, model, outcome.error, deps.loadPopularity), retries: attempt };
    }
    lastError = `${model.url}: ${outcome.error}`;
  }
  return { kind: 'unavailable', model, error: lastError, retries: Math.max(0, deps.retry.attempts - 1) };
}

async function fallback(
  request: RecommendationRequest,
  model: ActiveModel,
  rejection: string,
  loadPopularity: LoadPopularity | undefined,
): Promise<ResultBody> {
  const reason = `the model rejected the request: ${rejection}`;
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
