/**
 * The encoding of results on the `recommendations` topic: one UTF-8 JSON
 * object per request (docs/serving.md). JSON rather than protobuf because
 * the consumers are dashboards, tests and people reading the topic, and
 * the fields will grow; `schema` versions the shape.
 */
import { z } from 'zod';
import { type SourceRecord, requestId } from './request-id';

export interface RankedProduct {
  product: number;
  score: number;
}

export const RESULT_SCHEMA_VERSION = 1;

export interface ModelRef {
  /** the descriptor's name (the slot when the descriptor leaves it empty) */
  name: string;
  /** slot = TF Serving model name, from the URL */
  slot: string | null;
  /** from the URL's `/versions/N:predict`; null when the URL names no version */
  version: number | null;
  url: string;
}

interface ResultCommon {
  schema: typeof RESULT_SCHEMA_VERSION;
  /** `<topic>:<partition>:<offset>` of the request: the key for deduplication */
  requestId: string;
  source: SourceRecord;
  user: number;
  model: ModelRef;
  /** time spent by the model server on this request (predict call, retries, fallback), ms */
  latencyMs: number;
  /** Kafka timestamp of the request record, epoch ms */
  requestTimestamp: number;
  /**
   * the visit's event time, epoch ms: the request's time_ms when set, else
   * requestTimestamp (the online evaluator joins purchases on it). Absent
   * on results of older model servers.
   */
  eventTime?: number;
  /** when the result was produced, ISO 8601 */
  servedAt: string;
}

/** Ranked by the model's scores, highest first. */
export interface ScoredResult extends ResultCommon {
  outcome: 'scored';
  fallback: null;
  ranked: RankedProduct[];
}

/** The model rejected the request (ids outside its tables): ranked by popularity instead. */
export interface FallbackResult extends ResultCommon {
  outcome: 'fallback';
  fallback: 'popularity';
  /** why the model could not rank it (the slot's error message) */
  reason: string;
  ranked: RankedProduct[];
}

/** Neither the model nor a popularity ranking could answer. */
export interface ErrorResult extends ResultCommon {
  outcome: 'error';
  fallback: null;
  error: string;
}

export type RecommendationResult = ScoredResult | FallbackResult | ErrorResult;
export type ResultOutcome = RecommendationResult['outcome'];

/** What the processor knows about an answered request; the envelope fields are added by buildResult. */
export type ResultBody =
  | { outcome: 'scored'; ranked: RankedProduct[] }
  | { outcome: 'fallback'; ranked: RankedProduct[]; reason: string }
  | { outcome: 'error'; error: string };

export function buildResult(
  common: {
    source: SourceRecord;
    user: number;
    model: ModelRef;
    latencyMs: number;
    requestTimestamp: number;
    /** absent: the result has none (the shape of older servers' records, kept by the golden vectors) */
    eventTime?: number;
    servedAt: Date;
  },
  body: ResultBody,
): RecommendationResult {
  const base = {
    schema: RESULT_SCHEMA_VERSION,
    requestId: requestId(common.source),
    source: common.source,
    user: common.user,
    model: common.model,
    latencyMs: Math.round(common.latencyMs * 1000) / 1000,
    requestTimestamp: common.requestTimestamp,
    ...(common.eventTime !== undefined && { eventTime: common.eventTime }),
    servedAt: common.servedAt.toISOString(),
  } as const;
  switch (body.outcome) {
    case 'scored':
      return { ...base, outcome: 'scored', fallback: null, ranked: body.ranked };
    case 'fallback':
      return { ...base, outcome: 'fallback', fallback: 'popularity', reason: body.reason, ranked: body.ranked };
    case 'error':
      return { ...base, outcome: 'error', fallback: null, error: body.error };
  }
}

/** A request's event time: its time_ms when set (> 0), else its record's Kafka timestamp. */
export function eventTimeOf(timeMs: number | undefined, recordTimestamp: number): number {
  return timeMs !== undefined && timeMs > 0 ? timeMs : recordTimestamp;
}

export function encodeResult(result: RecommendationResult): Buffer {
  return Buffer.from(JSON.stringify(result), 'utf8');
}

const ranked = z.array(z.object({ product: z.number().int(), score: z.number() }));
const common = {
  schema: z.literal(RESULT_SCHEMA_VERSION),
  requestId: z.string(),
  source: z.object({ topic: z.string(), partition: z.number().int(), offset: z.string() }),
  user: z.number().int(),
  model: z.object({ name: z.string(), slot: z.string().nullable(), version: z.number().int().nullable(), url: z.string() }),
  latencyMs: z.number(),
  requestTimestamp: z.number(),
  eventTime: z.number().optional(),
  servedAt: z.string(),
};
const resultSchema = z.discriminatedUnion('outcome', [
  z.object({ ...common, outcome: z.literal('scored'), fallback: z.null(), ranked }),
  z.object({ ...common, outcome: z.literal('fallback'), fallback: z.literal('popularity'), reason: z.string(), ranked }),
  z.object({ ...common, outcome: z.literal('error'), fallback: z.null(), error: z.string() }),
]);

/** Parses and checks a result record (for consumers of the topic: tests, bench, demo). */
export function decodeResult(bytes: Buffer | Uint8Array): RecommendationResult {
  const json: unknown = JSON.parse(Buffer.from(bytes).toString('utf8'));
  return resultSchema.parse(json);
}
