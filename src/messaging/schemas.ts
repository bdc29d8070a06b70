/**
 * Protobuf codecs for the Kafka wire formats, from proto/recommender.proto
 * (loaded at run time by protobufjs, so the .proto file is the one source).
 */
import path from 'node:path';
import protobuf from 'protobufjs';

export interface RecommendationRequest {
  products: number[];
  user: number;
  /** a visit: rank the whole catalogue and answer the best `top` (when `products` is empty); absent or 0 otherwise */
  top?: number;
  /** when the visit happened, epoch ms; absent or 0: the record's Kafka timestamp */
  timeMs?: number;
}

/** Topic `purchases`: one basket bought (docs/design.md, "Purchases in"). */
export interface Purchase {
  user: number;
  products: number[];
  /** when it was bought, epoch ms */
  timeMs: number;
  /** the producer's idempotency key: a re-sent purchase carries the same id */
  id: string;
}

export interface ModelDescriptor {
  name: string;
  description: string;
  url: string;
  /** the publishing run, `<workflowId>/<runId>`; absent on records of older publishers */
  publisher?: string;
}

const root = protobuf.loadSync(path.join(__dirname, 'proto', 'recommender.proto'));
const requestType = root.lookupType('recommender.RecommendationRequest');
const descriptorType = root.lookupType('recommender.ModelDescriptor');
const purchaseType = root.lookupType('recommender.Purchase');

export class DecodeError extends Error {
  override name = 'DecodeError';
}

/** int64 fields decode as Long for large values: keep them exact or reject. */
function toSafeNumber(v: unknown, field: string): number {
  const n = typeof v === 'number' ? v : Number(String(v));
  if (!Number.isSafeInteger(n)) throw new DecodeError(`${field}: ${String(v)} is not a safe integer`);
  return n;
}

export function encodeRequest(req: RecommendationRequest): Buffer {
  return Buffer.from(requestType.encode(requestType.fromObject(req)).finish());
}

export function decodeRequest(bytes: Uint8Array): RecommendationRequest {
  let msg: protobuf.Message;
  try {
    msg = requestType.decode(bytes);
  } catch (err) {
    throw new DecodeError(`not a RecommendationRequest: ${(err as Error).message}`);
  }
  const obj = requestType.toObject(msg, { longs: String, defaults: true }) as {
    products: string[];
    user: string;
    top: number;
    timeMs: string;
  };
  const request: RecommendationRequest = {
    user: toSafeNumber(obj.user, 'user'),
    products: obj.products.map((p, i) => toSafeNumber(p, `products[${i}]`)),
  };
  // proto3 defaults (0) mean "unset": a seed client's request decodes exactly as before
  if (obj.top > 0) request.top = obj.top;
  const timeMs = toSafeNumber(obj.timeMs, 'time_ms');
  if (timeMs !== 0) request.timeMs = timeMs;
  return request;
}

export function encodeDescriptor(d: ModelDescriptor): Buffer {
  return Buffer.from(descriptorType.encode(descriptorType.fromObject(d)).finish());
}

export function decodeDescriptor(bytes: Uint8Array): ModelDescriptor {
  let d: Required<ModelDescriptor>;
  try {
    d = descriptorType.toObject(descriptorType.decode(bytes), { defaults: true }) as Required<ModelDescriptor>;
  } catch (err) {
    throw new DecodeError(`not a ModelDescriptor: ${(err as Error).message}`);
  }
  // proto3 cannot tell an empty publisher from none: a record without one decodes as before
  const { publisher, ...rest } = d;
  return publisher ? { ...rest, publisher } : rest;
}

export function encodePurchase(p: Purchase): Buffer {
  return Buffer.from(purchaseType.encode(purchaseType.fromObject(p)).finish());
}

/** An int64 field as protobufjs decodes it (a number, or a Long for larger values), kept exact or rejected. */
function int64(v: unknown, field: string): number {
  const n = typeof v === 'number' ? v : (v as { toNumber(): number }).toNumber();
  // toNumber rounds beyond ±2^53, and every rounded value is outside the safe range
  if (!Number.isSafeInteger(n)) throw new DecodeError(`${field}: ${String(v)} is not a safe integer`);
  return n;
}

/**
 * Decodes a Purchase; int64 values beyond ±2^53 are a DecodeError naming the
 * field (they cannot be kept exact). Reads the message's fields directly
 * (no toObject): this runs once per ingested purchase.
 */
export function decodePurchase(bytes: Uint8Array): Purchase {
  let msg: protobuf.Message & { user: unknown; products: unknown[]; timeMs: unknown; id: string };
  try {
    msg = purchaseType.decode(bytes) as typeof msg;
  } catch (err) {
    throw new DecodeError(`not a Purchase: ${(err as Error).message}`);
  }
  const products = new Array<number>(msg.products.length);
  for (let i = 0; i < products.length; i++) products[i] = int64(msg.products[i], `products[${i}]`);
  return { user: int64(msg.user, 'user'), products, timeMs: int64(msg.timeMs, 'time_ms'), id: msg.id };
}
