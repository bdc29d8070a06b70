/**
 * Turns the bytes of an `mdata` record into a request the model can score,
 * or into the reason it goes to the dead-letter topic. Everything that can
 * be rejected without asking the model is rejected here, so a bad message
 * never reaches a predict call and never stops the partition.
 */
import type { RejectionCode } from '../../messaging/dead-letter';
import { DecodeError, decodeRequest, type RecommendationRequest } from '../../messaging/schemas';

export { REJECTION_CODES, type RejectionCode } from '../../messaging/dead-letter';

export type Validation = { ok: true; request: RecommendationRequest } | { ok: false; code: RejectionCode; reason: string };

export interface RequestLimits {
  /** most distinct products one request may ask to rank (one predict instance each) */
  maxProducts: number;
  /** most products a request with `top` is answered with (a larger `top` is cut to it); default DEFAULT_MAX_TOP */
  maxTop?: number;
}

export const DEFAULT_MAX_PRODUCTS = 1000;
export const DEFAULT_MAX_TOP = 100;

/** A visit: no products listed, the best `top` of the serving model's whole catalogue asked for. */
export function isVisit(request: RecommendationRequest): boolean {
  return request.products.length === 0 && (request.top ?? 0) > 0;
}

/**
 * The most bytes a request of `maxProducts` products can take: each product
 * at most 11 bytes (a tag and a 10-byte varint, unpacked), plus the user and
 * the packed field's header. A larger record is refused before it is decoded:
 * a 1 MB record of one-byte ids would otherwise cost ~0.5 s of CPU to decode
 * (issue 24, item 7).
 */
export function maxRequestBytes(maxProducts: number): number {
  return maxProducts * 11 + 32;
}

/**
 * Decodes and checks one request. Repeated products are ranked once: the
 * first occurrence is kept, so the result lists each product exactly once.
 */
export function validateRequest(value: Buffer | null | undefined, limits: RequestLimits): Validation {
  if (!value || value.length === 0) {
    // An empty protobuf is a valid encoding of {user 0, no products}; name the real problem.
    return { ok: false, code: 'empty-message', reason: 'the record has no value' };
  }
  const maxBytes = maxRequestBytes(limits.maxProducts);
  if (value.length > maxBytes) {
    return {
      ok: false,
      code: 'too-many-products',
      reason: `the record has ${value.length} bytes, more than a request of ${limits.maxProducts} products can take (${maxBytes}); not decoded`,
    };
  }
  let decoded: RecommendationRequest;
  try {
    decoded = decodeRequest(value);
  } catch (err) {
    if (!(err instanceof DecodeError)) throw err;
    // decodeRequest reports out-of-range int64 values as "<field>: <v> is not a safe integer".
    const code: RejectionCode = /is not a safe integer/.test(err.message) ? 'unsafe-id' : 'undecodable';
    return { ok: false, code, reason: err.message };
  }
  if (decoded.user < 0) return { ok: false, code: 'negative-id', reason: `user ${decoded.user} is negative` };
  const negative = decoded.products.findIndex((p) => p < 0);
  if (negative >= 0) {
    return { ok: false, code: 'negative-id', reason: `products[${negative}] = ${decoded.products[negative]} is negative` };
  }
  const products = [...new Set(decoded.products)];
  const top = decoded.top && Math.min(decoded.top, limits.maxTop ?? DEFAULT_MAX_TOP);
  if (products.length === 0 && !top) {
    return { ok: false, code: 'no-products', reason: 'the request lists no products to rank and asks for no top (a visit)' };
  }
  if (products.length > limits.maxProducts) {
    return {
      ok: false,
      code: 'too-many-products',
      reason: `the request lists ${products.length} distinct products; at most ${limits.maxProducts} are ranked per request`,
    };
  }
  const request: RecommendationRequest = { user: decoded.user, products };
  if (top) request.top = top;
  if (decoded.timeMs !== undefined) request.timeMs = decoded.timeMs;
  return { ok: true, request };
}
