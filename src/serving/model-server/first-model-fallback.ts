/**
 * Answers for requests that arrive before the first model is published
 * (SERVING_BEFORE_FIRST_MODEL=fallback): ranked by popularity rather than
 * left waiting on Kafka. The ranking is the newest one known for a
 * configured slot: the lineage the exporter writes for a version before its
 * URL is published (so during the first deployment it usually exists), or
 * any earlier version's. Without one the requests wait on Kafka,
 * uncommitted, as when held (the scorer reports them unavailable). An
 * answered request is committed: a model published later does not
 * re-answer it.
 */
import type { Client } from 'minio';
import type { ModelRef, ResultBody } from '../../messaging/result';
import type { RecommendationRequest } from '../../messaging/schemas';
import { listLineageVersions } from '../../store/lineage';
import type { LoadPopularity } from './popularity-source';
import { rankByPopularity } from './ranking';

/** The ranking to use while no model exists, and where it came from; undefined when none is known. */
export type LoadInitialPopularity = () => Promise<{ slot: string; version: number; order: number[] } | undefined>;

/** What a result answered before the first model names as its model. */
export const NO_MODEL: ModelRef = { name: 'no model yet', slot: null, version: null, url: '' };

/**
 * The newest version (highest number, any of `slots`) under `lineage/<slot>/`
 * that has a ranking; looked up at most every `ttlMs`.
 */
export function lineageInitialPopularity(
  client: Client,
  bucket: string,
  slots: readonly string[],
  load: LoadPopularity,
  ttlMs = 10_000,
  now: () => number = Date.now,
): LoadInitialPopularity {
  let cached: { at: number; value: Promise<{ slot: string; version: number; order: number[] } | undefined> } | undefined;
  const lookup = async () => {
    const candidates: { slot: string; version: number }[] = [];
    for (const slot of slots) {
      for (const version of await listLineageVersions(client, bucket, slot)) candidates.push({ slot, version });
    }
    candidates.sort((a, b) => b.version - a.version);
    for (const c of candidates) {
      const order = await load(c.slot, c.version);
      if (order) return { ...c, order };
    }
    return undefined;
  };
  return () => {
    if (!cached || now() - cached.at >= ttlMs) {
      const value = lookup().catch(() => undefined); // a store failure: no ranking this time, asked again after ttlMs
      cached = { at: now(), value };
    }
    return cached.value;
  };
}

/** The answer for `request` while no model exists, from `ranking`. */
export function answerWithoutModel(
  request: RecommendationRequest,
  ranking: NonNullable<Awaited<ReturnType<LoadInitialPopularity>>>,
): ResultBody {
  const reason = 'no model has been published yet';
  return {
    outcome: 'fallback',
    // a visit (no products) gets the ranking itself (cut to its top by the caller)
    ranked: rankByPopularity(request.products.length > 0 ? request.products : ranking.order, ranking.order),
    reason: `${reason}: ranked by the popularity of ${ranking.slot} version ${ranking.version}`,
  };
}
