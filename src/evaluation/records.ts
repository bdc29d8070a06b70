/**
 * What the online evaluator reads from its three topics, decoded into the
 * few fields the join needs (docs/design.md, "Quality out"). Hostile input
 * (not JSON, wrong schema, not a Purchase) throws an error naming the
 * problem; the evaluator skips and counts such records. Results and shadow
 * answers are parsed once and only the fields read here are checked (the
 * topics' full schemas, src/messaging/, are for their other consumers): a
 * zod parse of every field cost the evaluator more than its join.
 *
 * A result's event time is its `eventTime` (the visit's time, set by the
 * model server) and, on results of model servers that do not set it yet,
 * its `requestTimestamp` (the request record's Kafka timestamp).
 *
 * A shadow record is one answer (schema 1) or a batch of them (schema 2):
 * its entries are read in array order as if they were consecutive records;
 * an entry with a malformed field, or of a customer whose records do not go
 * to the record's partition (co-partitioning), is skipped and named.
 */
import { RESULT_SCHEMA_VERSION } from '../messaging/result';
import { decodePurchase } from '../messaging/schemas';
import { customerPartition } from '../messaging/customer-partition';
import { SHADOW_BATCH_SCHEMA_VERSION, SHADOW_KINDS, SHADOW_SCHEMA_VERSION, type ShadowKind } from '../messaging/shadow-result';

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

type Doc = Record<string, unknown>;

/** The record as a JSON object (no copy of the bytes). */
function parseObject(bytes: Buffer | Uint8Array, what: string): Doc {
  const text = (Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)).toString('utf8');
  const doc: unknown = JSON.parse(text);
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new Error(`${what} is not a JSON object`);
  return doc as Doc;
}

/** `what`: the record (`result record`), or the part of one, that the field is of. */
function fail(what: string, field: string, expected: string, value: unknown): never {
  throw new Error(`${what}: field ${field} is not ${expected} (${JSON.stringify(value)?.slice(0, 80)})`);
}

const isInt = (v: unknown): v is number => Number.isInteger(v);

function num(d: Doc, what: string, field: string): number {
  const v = d[field];
  return typeof v === 'number' && Number.isFinite(v) ? v : fail(what, field, 'a number', v);
}

/** The first TOP_K products of `ranked` (each an integer). */
function topOf(ranked: unknown, what: string): number[] {
  if (!Array.isArray(ranked)) fail(what, 'ranked', 'an array', ranked);
  const n = Math.min(TOP_K, ranked.length);
  const top = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const p = (ranked[i] as { product?: unknown } | null)?.product;
    top[i] = isInt(p) ? p : fail(what, `ranked[${i}].product`, 'an integer', p);
  }
  return top;
}

/** The first TOP_K of `products`, every one checked to be an integer. */
function topOfIds(products: unknown, what: string): number[] {
  if (!Array.isArray(products)) fail(what, 'products', 'an array', products);
  for (let i = 0; i < products.length; i++) if (!isInt(products[i])) fail(what, `products[${i}]`, 'an integer', products[i]);
  return (products as number[]).slice(0, TOP_K);
}

const OUTCOMES = new Set(['scored', 'fallback', 'error']);

/** A record of `recommendations`. */
export function decodeServed(bytes: Buffer | Uint8Array): ServedRequest {
  const what = 'result record';
  const r = parseObject(bytes, what);
  if (r.schema !== RESULT_SCHEMA_VERSION) fail(what, 'schema', String(RESULT_SCHEMA_VERSION), r.schema);
  const { requestId, user, model, outcome } = r;
  if (typeof requestId !== 'string') fail(what, 'requestId', 'a string', requestId);
  if (!isInt(user)) fail(what, 'user', 'an integer', user);
  const m = (typeof model === 'object' && model !== null ? model : fail(what, 'model', 'an object', model)) as Doc;
  if (m.slot !== null && typeof m.slot !== 'string') fail(what, 'model.slot', 'a string or null', m.slot);
  if (m.version !== null && !isInt(m.version)) fail(what, 'model.version', 'an integer or null', m.version);
  if (typeof outcome !== 'string' || !OUTCOMES.has(outcome)) fail(what, 'outcome', 'scored, fallback or error', outcome);
  return {
    requestId,
    user,
    eventTime: r.eventTime === undefined ? num(r, what, 'requestTimestamp') : num(r, what, 'eventTime'),
    slot: m.slot,
    version: m.version,
    top: outcome === 'error' ? [] : topOf(r.ranked, what),
  };
}

const KINDS = new Set<unknown>(SHADOW_KINDS);

function kindOf(d: Doc, what: string): ShadowKind {
  return KINDS.has(d.shadow) ? (d.shadow as ShadowKind) : fail(what, 'shadow', SHADOW_KINDS.join(' or '), d.shadow);
}

function requestIdOf(d: Doc, what: string): string {
  const { requestId } = d;
  return typeof requestId === 'string' && requestId !== '' ? requestId : fail(what, 'requestId', 'a non-empty string', requestId);
}

/** A single record of `recommendations-shadow` (schema 1). */
export function decodeShadowAnswer(bytes: Buffer | Uint8Array): ShadowAnswer {
  const what = 'shadow record';
  const s = parseObject(bytes, what);
  if (s.schema !== SHADOW_SCHEMA_VERSION) fail(what, 'schema', String(SHADOW_SCHEMA_VERSION), s.schema);
  return singleAnswer(s, what);
}

function singleAnswer(s: Doc, what: string): ShadowAnswer {
  const requestId = requestIdOf(s, what);
  return { requestId, shadow: kindOf(s, what), eventTime: num(s, what, 'eventTime'), top: topOf(s.ranked, what) };
}

/** Where a shadow record was read: what a batch's entries are checked against (co-partitioning) and problems are named by. */
export interface RecordPlace {
  partition: number;
  /** the topic's partition count */
  partitions: number;
  offset: string;
}

export interface ShadowAnswers {
  /** in record order: a batch's valid entries in array order */
  answers: ShadowAnswer[];
  /** the skipped entries of a batch, each naming the record's offset, the entry's index and the field */
  invalid: string[];
}

/**
 * A record of `recommendations-shadow` of either schema. Throws (naming the
 * field) when the record itself is not one: not JSON, an unknown schema, a
 * batch without a kind or entries.
 */
export function decodeShadowAnswers(bytes: Buffer | Uint8Array, place: RecordPlace): ShadowAnswers {
  const s = parseObject(bytes, 'shadow record');
  if (s.schema === SHADOW_SCHEMA_VERSION) return { answers: [singleAnswer(s, 'shadow record')], invalid: [] };
  const what = `shadow batch record at offset ${place.offset}`;
  if (s.schema !== SHADOW_BATCH_SCHEMA_VERSION)
    fail('shadow record', 'schema', `${SHADOW_SCHEMA_VERSION} or ${SHADOW_BATCH_SCHEMA_VERSION}`, s.schema);
  const shadow = kindOf(s, what);
  if (!Array.isArray(s.entries)) fail(what, 'entries', 'an array', s.entries);
  const out: ShadowAnswers = { answers: [], invalid: [] };
  s.entries.forEach((entry: unknown, i) => {
    try {
      out.answers.push(batchEntry(entry, shadow, place, `${what}, entry ${i}`));
    } catch (err) {
      out.invalid.push((err as Error).message);
    }
  });
  return out;
}

function batchEntry(entry: unknown, shadow: ShadowKind, place: RecordPlace, what: string): ShadowAnswer {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) fail(what, '(entry)', 'a JSON object', entry);
  const e = entry as Doc;
  const requestId = requestIdOf(e, what);
  const { user } = e;
  if (!isInt(user) || user < 0) fail(what, 'user', 'a customer id (an integer ≥ 0)', user);
  const home = customerPartition(user, place.partitions);
  if (home !== place.partition) fail(what, 'user', `a customer of partition ${place.partition} (its records go to ${home})`, user);
  return { requestId, shadow, eventTime: num(e, what, 'eventTime'), top: topOfIds(e.products, what) };
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
