/**
 * Turns the bytes of a `purchases` record into a purchase that can become a
 * history line, or into the reason it goes to `purchases-dlq`. The verdict
 * depends only on the record (value and Kafka timestamp) and the configured
 * limits, never on the wall clock: every writer of a partition decides the
 * same, which the exactly-once argument needs (docs/design.md, "Purchases in").
 */
import type { PurchaseLimits } from '../config';
import type { RejectionCode } from '../messaging/dead-letter';
import type { ScannedPurchase } from '../messaging/purchase-scan';
import { DecodeError, decodePurchase, type Purchase } from '../messaging/schemas';

export type PurchaseVerdict = { ok: true; purchase: Purchase } | { ok: false; code: RejectionCode; reason: string };

/** Longest idempotency key accepted, in characters. */
export const MAX_PURCHASE_ID_LENGTH = 128;

/** Printable ASCII without ',' (the segment's field separator) and without spaces. */
const PURCHASE_ID = /^[\x21-\x2b\x2d-\x7e]+$/;
const COMMA = 0x2c;

const reject = (code: RejectionCode, reason: string): PurchaseVerdict => ({ ok: false, code, reason });

function checkIds(p: Purchase, limits: PurchaseLimits): PurchaseVerdict | undefined {
  if (p.user < 0) return reject('negative-id', `user ${p.user} is negative`);
  if (p.user > limits.maxUserId) return reject('id-too-large', `user ${p.user} exceeds the largest accepted id ${limits.maxUserId}`);
  if (p.products.length === 0) return reject('no-products', 'the purchase lists no products');
  if (p.products.length > limits.maxProducts) {
    return reject('too-many-products', `the purchase lists ${p.products.length} products; at most ${limits.maxProducts} are accepted`);
  }
  for (let i = 0; i < p.products.length; i++) {
    const product = p.products[i];
    if (product < 0) return reject('negative-id', `products[${i}] = ${product} is negative`);
    if (product > limits.maxProductId) {
      return reject('id-too-large', `products[${i}] = ${product} exceeds the largest accepted id ${limits.maxProductId}`);
    }
  }
  return undefined;
}

/**
 * Decodes and checks one record. `recordTimestamp` is the record's Kafka
 * timestamp (epoch ms): a purchase may not be dated more than
 * `limits.maxFutureMs` after it.
 */
export function validatePurchase(value: Buffer | null | undefined, recordTimestamp: number, limits: PurchaseLimits): PurchaseVerdict {
  // an empty protobuf decodes as user 0 with nothing bought: name the real problem
  if (!value || value.length === 0) return reject('empty-message', 'the record has no value');
  let p: Purchase;
  try {
    p = decodePurchase(value);
  } catch (err) {
    if (!(err instanceof DecodeError)) throw err;
    return reject(/is not a safe integer/.test(err.message) ? 'unsafe-id' : 'undecodable', err.message);
  }
  const idProblem = checkIds(p, limits);
  if (idProblem) return idProblem;
  if (p.id.length === 0) return reject('bad-purchase-id', 'the purchase has no id (its idempotency key)');
  if (p.id.length > MAX_PURCHASE_ID_LENGTH || !PURCHASE_ID.test(p.id)) {
    return reject(
      'bad-purchase-id',
      `the purchase id must be 1-${MAX_PURCHASE_ID_LENGTH} printable ASCII characters without ',' or spaces, got ${JSON.stringify(p.id.slice(0, 40))}`,
    );
  }
  if (p.timeMs <= 0) return reject('bad-time', `time_ms ${p.timeMs} is not after 1970`);
  if (p.timeMs > recordTimestamp + limits.maxFutureMs) {
    return reject(
      'bad-time',
      `time_ms ${p.timeMs} is ${p.timeMs - recordTimestamp} ms after the record's timestamp ${recordTimestamp} (at most ${limits.maxFutureMs})`,
    );
  }
  return { ok: true, purchase: p };
}

/**
 * validatePurchase's rules as a predicate over a scanned record, without
 * reasons and without allocating (the data publisher's hot path): true only
 * when validatePurchase accepts the same record. Whatever it does not accept
 * goes through validatePurchase, which decides and names the reason, so the
 * two cannot disagree on a verdict (test/unit/purchase-validation.test.ts).
 */
export function acceptsScanned(p: ScannedPurchase, value: Uint8Array, recordTimestamp: number, limits: PurchaseLimits): boolean {
  // the scan declines negative and unsafe ids; the bounds below are checkIds' and validatePurchase's
  if (p.user > limits.maxUserId || p.count === 0 || p.count > limits.maxProducts) return false;
  for (let i = 0; i < p.count; i++) if (p.products[i] > limits.maxProductId) return false;
  const length = p.idEnd - p.idStart;
  if (length === 0 || length > MAX_PURCHASE_ID_LENGTH) return false;
  for (let i = p.idStart; i < p.idEnd; i++) {
    const c = value[i];
    if (c < 0x21 || c > 0x7e || c === COMMA) return false;
  }
  return p.timeMs > 0 && p.timeMs <= recordTimestamp + limits.maxFutureMs;
}
