/**
 * Visit requests (`top` > 0, no products): the serving model ranks its whole
 * catalogue, every product row of its tables (known per version from the
 * lineage, `tableSizes`), and the best `top` are answered. The catalogue is
 * cut into parts of at most `maxRows` products, so a part fits one predict
 * call; the parts go through scoreRequests with the chunk's other requests
 * and are merged back here. A request with products and `top` is answered
 * with only its best `top`.
 */
import type { ResultBody } from '../../messaging/result';
import type { RecommendationRequest } from '../../messaging/schemas';
import type { ActiveModel } from './current-model';
import { isVisit } from './request-validation';
import type { ScoreOutcome } from './scoring';

/** The product ids of a catalogue of `rows` products (0..rows-1). */
export function catalogue(rows: number, from = 0, to = rows): number[] {
  return Array.from({ length: Math.max(0, Math.min(to, rows) - from) }, (_, i) => from + i);
}

export interface Expanded {
  /** what is scored: the requests as they are, and each visit as parts of its catalogue */
  parts: RecommendationRequest[];
  /** the index of the request each part belongs to */
  owner: number[];
  /** visits answered without scoring (no catalogue known for the model), by request index */
  unscorable: Map<number, string>;
}

/**
 * Replaces each visit by its catalogue in parts of at most `maxRows`
 * products. `productRows` undefined: the model's catalogue is unknown; with
 * a model the visit cannot be scored (unscorable), without one (before the
 * first model) it is passed on as it is and answered from popularity.
 */
export function expandVisits(
  requests: readonly RecommendationRequest[],
  productRows: number | undefined,
  hasModel: boolean,
  maxRows: number,
): Expanded {
  const out: Expanded = { parts: [], owner: [], unscorable: new Map() };
  requests.forEach((r, i) => {
    if (!isVisit(r) || (productRows === undefined && !hasModel)) {
      out.parts.push(r);
      out.owner.push(i);
    } else if (productRows === undefined) {
      out.unscorable.set(i, "the serving model's catalogue is unknown (its lineage names no table sizes): a visit cannot be ranked");
    } else {
      for (let from = 0; from < productRows; from += maxRows) {
        out.parts.push({ user: r.user, products: catalogue(productRows, from, from + maxRows) });
        out.owner.push(i);
      }
    }
  });
  return out;
}

/** `body` with only its best `top` products (all of them when `top` is unset). */
export function cutToTop(body: ResultBody, top: number | undefined): ResultBody {
  if (!top || body.outcome === 'error' || body.ranked.length <= top) return body;
  return { ...body, ranked: body.ranked.slice(0, top) };
}

/** One visit's parts merged: unavailable if any is, otherwise every part's products by score (a part not scored decides alone). */
function mergeVisit(parts: ScoreOutcome[]): ScoreOutcome {
  const stuck = parts.find((o) => o.kind === 'unavailable');
  if (stuck) return stuck;
  const answered = parts as (ScoreOutcome & { kind: 'answered' })[];
  const retries = answered.reduce((n, o) => n + o.retries, 0);
  // a part not scored (the model switched to smaller tables mid-chunk) answers alone: scores of different kinds do not mix
  const odd = answered.find((o) => o.body.outcome !== 'scored');
  if (odd) return { ...odd, retries };
  const ranked = answered.flatMap((o) => (o.body.outcome === 'scored' ? o.body.ranked : []));
  ranked.sort((a, b) => b.score - a.score || a.product - b.product);
  return { kind: 'answered', model: answered[0].model, body: { outcome: 'scored', ranked }, retries };
}

/**
 * The outcome of each request from the outcomes of its parts, cut to its
 * `top`. `productRows` is recorded on a visit's answer: the popularity
 * shadow ranks the same catalogue.
 */
export function mergeParts(
  requests: readonly RecommendationRequest[],
  expanded: Expanded,
  outcomes: readonly ScoreOutcome[],
  model: ActiveModel | undefined,
  productRows: number | undefined,
): ScoreOutcome[] {
  const byRequest = requests.map((): ScoreOutcome[] => []);
  expanded.owner.forEach((i, j) => byRequest[i].push(outcomes[j]));
  return requests.map((r, i): ScoreOutcome => {
    const why = expanded.unscorable.get(i);
    if (why !== undefined && model) return { kind: 'answered', model, body: { outcome: 'error', error: why }, retries: 0 };
    const merged = byRequest[i].length === 1 ? byRequest[i][0] : mergeVisit(byRequest[i]);
    if (merged.kind !== 'answered') return merged;
    const visit = isVisit(r) && byRequest[i].length > 0 && productRows !== undefined && merged.model.url === model?.url;
    return { ...merged, body: cutToTop(merged.body, r.top), ...(visit && { catalogueRows: productRows }) };
  });
}
