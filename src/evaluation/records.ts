/**
 * What the online evaluator reads from its three topics, decoded into the
 * few fields the join needs (docs/design.md, "Quality out"). Hostile input
 * (not JSON, wrong schema, not a Purchase) throws an error naming the
 * problem; the evaluator skips and counts such records.
 *
 * A result's event time is its `eventTime` (the visit's time, set by the
 * model server) and, on results of model servers that do not set it yet,
 * its `requestTimestamp` (the request record's Kafka timestamp).
 */
import { decodeResult } from '../messaging/result';
import { decodePurchase } from '../messaging/schemas';
import { decodeShadow, type ShadowKind } from '../messaging/shadow-result';

/** HR@10: a purchase is a hit when a purchased product is among the first TOP_K of the ranking. */
export const TOP_K = 10;

/** A served request: what the active model answered. */
export interface ServedRequest {
  requestId: string;
  user: number;
  eventTime: number;
  /** the serving model's slot and version (null when the result names none) */
  slot: string | null;
  version: number | null;
  /** the first TOP_K products of the answer (empty for an error result) */
  top: number[];
}

export interface ShadowAnswer {
  requestId: string;
  shadow: ShadowKind;
  eventTime: number;
  top: number[];
}

export interface BoughtBasket {
  id: string;
  user: number;
  eventTime: number;
  products: number[];
}

const topOf = (r: { product: number }[] | undefined): number[] => (r ?? []).slice(0, TOP_K).map((p) => p.product);

/** A record of `recommendations`. */
export function decodeServed(bytes: Buffer | Uint8Array): ServedRequest {
  const r = decodeResult(bytes);
  return {
    requestId: r.requestId,
    user: r.user,
    eventTime: r.eventTime ?? r.requestTimestamp,
    slot: r.model.slot,
    version: r.model.version,
    top: r.outcome === 'error' ? [] : topOf(r.ranked),
  };
}

/** A record of `recommendations-shadow`. */
export function decodeShadowAnswer(bytes: Buffer | Uint8Array): ShadowAnswer {
  const s = decodeShadow(bytes);
  return { requestId: s.requestId, shadow: s.shadow, eventTime: s.eventTime, top: topOf(s.ranked) };
}

/** A record of `purchases` (an id-less purchase cannot be deduplicated: refused). */
export function decodeBasket(bytes: Buffer | Uint8Array): BoughtBasket {
  const p = decodePurchase(bytes);
  if (p.id === '') throw new Error('purchase without an id');
  if (p.user < 0) throw new Error(`purchase ${p.id}: negative customer id ${p.user}`);
  return { id: p.id, user: p.user, eventTime: p.timeMs, products: p.products };
}

/** The label of a served version in figures and tables: `<slot>/<version>`, `-` for an unknown part. */
export const versionLabel = (slot: string | null, version: number | null): string => `${slot ?? '-'}/${version ?? '-'}`;

/** The join key of a request and its shadows: the request id at its event time. */
export const requestKey = (requestId: string, eventTime: number): string => `${requestId}@${eventTime}`;
