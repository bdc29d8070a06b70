/**
 * Shadow records (src/messaging/shadow-result.ts) of answered requests: what
 * popularity, or the standby slot's model, would have answered. Built here
 * from what the processor knows of a served answer (its ShadowSubject):
 * popularity's as entries of batch records (./shadow-batches.ts), the
 * previous model's as single records.
 */
import type { Message } from 'kafkajs';
import type { ScoredResult } from '../../messaging/result';
import type { RecommendationRequest } from '../../messaging/schemas';
import { customerKey } from '../../messaging/customer-partition';
import { encodeShadow, SHADOW_SCHEMA_VERSION, type ShadowKind, type ShadowResult, type SlotVersion } from '../../messaging/shadow-result';
import type { PendingShadow } from './shadow-batches';
import { topByPopularity, type RankedProduct } from './ranking';
import { catalogue } from './visits';

/** A served (scored) answer, as the shadows need it. */
export interface ShadowSubject {
  requestId: string;
  user: number;
  eventTime: number;
  servedBy: SlotVersion;
  /** the products the request listed (empty for a visit) */
  products: readonly number[];
  /** a visit: the product rows of the catalogue the served model ranked */
  catalogueRows?: number;
  /** the served answer's length: a shadow is cut to it */
  length: number;
}

/** The subject of a scored answer; undefined for fallbacks and errors (nothing was served by a model) or an unknown version. */
export function shadowSubject(
  request: RecommendationRequest,
  result: ScoredResult,
  catalogueRows: number | undefined,
): ShadowSubject | undefined {
  const { slot, version } = result.model;
  if (slot === null || version === null) return undefined;
  if (request.products.length === 0 && catalogueRows === undefined) return undefined;
  return {
    requestId: result.requestId,
    user: result.user,
    eventTime: result.eventTime ?? result.requestTimestamp,
    servedBy: { slot, version },
    products: request.products,
    ...(catalogueRows !== undefined && { catalogueRows }),
    length: result.ranked.length,
  };
}

/** The candidates a shadow ranks: the request's products, or for a visit its catalogue (`rows` products). */
export function candidatesOf(subject: ShadowSubject, rows = subject.catalogueRows): readonly number[] {
  return subject.products.length > 0 ? subject.products : catalogue(rows ?? 0);
}

export function shadowRecord(
  subject: ShadowSubject,
  shadow: ShadowKind,
  model: SlotVersion,
  ranked: RankedProduct[],
  now = new Date(),
): ShadowResult {
  return {
    schema: SHADOW_SCHEMA_VERSION,
    requestId: subject.requestId,
    user: subject.user,
    shadow,
    servedBy: subject.servedBy,
    model,
    ranked: ranked.slice(0, subject.length),
    eventTime: subject.eventTime,
    producedAt: now.toISOString(),
  };
}

/** A single record of the shadow topic: keyed by the customer id, like results and purchases (co-partitioned). */
export function shadowMessage(shadow: ShadowResult): Message {
  return {
    key: customerKey(shadow.user),
    value: encodeShadow(shadow),
    headers: { 'request-id': shadow.requestId, 'content-type': 'application/json', shadow: shadow.shadow },
  };
}

/**
 * Popularity's answer to a served one: the served version's popularity
 * ranking `order` (its lineage) over the same candidates, cut to the
 * answer's length, as an entry of a batch record (./shadow-batches.ts).
 */
export function popularityShadowOf(subject: ShadowSubject, order: readonly number[]): PendingShadow {
  const products =
    subject.products.length > 0 ? topByPopularity(subject.products, order, subject.length).map((r) => r.product) : visitTop(subject, order);
  const { requestId, user, eventTime, servedBy } = subject;
  return { shadow: 'popularity', servedBy, model: servedBy, entry: { requestId, user, eventTime, products } };
}

/** Popularity's top of a catalogue, per ranking (rankings are cached per version and never change), by `<rows>/<length>`. */
const visitTops = new WeakMap<readonly number[], Map<string, number[]>>();

/**
 * A visit's popularity top: the same for every visit served by a version
 * (its ranking over its whole catalogue, cut to the answer's length), so it
 * is ranked once per ranking, catalogue size and length instead of once per
 * visit. Lengths are at most the configured top, so the entries are few.
 */
function visitTop(subject: ShadowSubject, order: readonly number[]): number[] {
  const rows = subject.catalogueRows ?? 0;
  const key = `${rows}/${subject.length}`;
  let tops = visitTops.get(order);
  if (!tops) visitTops.set(order, (tops = new Map()));
  let top = tops.get(key);
  if (!top) tops.set(key, (top = topByPopularity(catalogue(rows), order, subject.length).map((r) => r.product)));
  return top;
}

/**
 * Whether a request is in the previous-model sample: its id hashed
 * (FNV-1a, 32 bits, then murmur3's finaliser) onto [0, 1) below `share`. A
 * function of the id alone, so a rerun over the same requests samples the
 * same ones. The finaliser spreads ids that differ only in their last
 * characters (consecutive offsets): FNV-1a alone sampled 16–104 of 120
 * consecutive ids at share 0.5.
 */
export function sampledForShadow(requestId: string, share: number): boolean {
  if (share <= 0) return false;
  if (share >= 1) return true;
  let h = 0x811c9dc5;
  for (let i = 0; i < requestId.length; i++) {
    h ^= requestId.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 0x1_0000_0000 < share;
}
