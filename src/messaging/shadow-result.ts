/**
 * Topic `recommendations-shadow` (TOPIC_SHADOWS), co-partitioned with
 * `recommendations` and `purchases` by customer id (docs/design.md,
 * "Quality out"; a batch record on its customers' partition, written
 * explicitly): what a shadow would have answered to a request that the
 * active model answered. A shadow never answers a client; its records exist
 * only to be joined with what the customer then bought.
 *
 *  - `popularity`: the popularity ranking of the serving model's training
 *    history over the same candidates, for every served request;
 *  - `previous-model`: the standby slot's model (the previous version),
 *    scored out of the answer's path for a share of the requests.
 *
 * JSON like the results (docs/serving.md), versioned by `schema`: 1, one
 * answer a record (`ShadowResult`); 2, a batch (`ShadowBatch`): the answers
 * of several customers of one partition, the fields they share once. A
 * reader takes both (records of schema 1 are still in flight on upgrade).
 */
import { z } from 'zod';
import type { RankedProduct } from './result';

export const SHADOW_SCHEMA_VERSION = 1;
export const SHADOW_BATCH_SCHEMA_VERSION = 2;

export const SHADOW_KINDS = ['popularity', 'previous-model'] as const;
export type ShadowKind = (typeof SHADOW_KINDS)[number];

/** A model version as served by a slot. */
export interface SlotVersion {
  slot: string | null;
  version: number | null;
}

export interface ShadowResult {
  schema: typeof SHADOW_SCHEMA_VERSION;
  /** the served request's id (`<topic>:<partition>:<offset>`, as on its result): the join key to it */
  requestId: string;
  user: number;
  shadow: ShadowKind;
  /** the model whose answer went to the client */
  servedBy: SlotVersion;
  /** what ranked the shadow: the standby's slot and version, or (popularity) the version whose history was counted */
  model: SlotVersion;
  /** the shadow's ranking of the same candidates, best first, cut to the length of the served answer */
  ranked: RankedProduct[];
  /** the visit's event time, as on its result: the request's time_ms, or its record's Kafka timestamp when unset; epoch ms */
  eventTime: number;
  /** when the shadow was scored, ISO 8601 */
  producedAt: string;
}

export function encodeShadow(shadow: ShadowResult): Buffer {
  return Buffer.from(JSON.stringify(shadow), 'utf8');
}

const slotVersion = z.object({ slot: z.string().nullable(), version: z.number().int().nullable() });
const shadowSchema = z.object({
  schema: z.literal(SHADOW_SCHEMA_VERSION),
  requestId: z.string().min(1),
  user: z.number().int().nonnegative(),
  shadow: z.enum(SHADOW_KINDS),
  servedBy: slotVersion,
  model: slotVersion,
  ranked: z.array(z.object({ product: z.number().int(), score: z.number() })),
  eventTime: z.number(),
  producedAt: z.string(),
});

/** One answer of a batch record. */
export interface ShadowBatchEntry {
  requestId: string;
  user: number;
  eventTime: number;
  /** the shadow's ranking, best first, cut to the length of the served answer (product ids: popularity's scores are only its order) */
  products: number[];
}

/**
 * Shadow answers of one kind, served and shadowed by the same versions, of
 * customers whose records all go to the partition it is written to (the
 * default partitioner's partition of each customer's key): co-partitioned
 * like single records, without one Kafka record per answer.
 */
export interface ShadowBatch {
  schema: typeof SHADOW_BATCH_SCHEMA_VERSION;
  shadow: ShadowKind;
  servedBy: SlotVersion;
  model: SlotVersion;
  producedAt: string;
  /** in the order the answers were served */
  entries: ShadowBatchEntry[];
}

export function encodeShadowBatch(batch: ShadowBatch): Buffer {
  return Buffer.from(JSON.stringify(batch), 'utf8');
}

const batchSchema = z.object({
  schema: z.literal(SHADOW_BATCH_SCHEMA_VERSION),
  shadow: z.enum(SHADOW_KINDS),
  servedBy: slotVersion,
  model: slotVersion,
  producedAt: z.string(),
  entries: z.array(
    z.object({
      requestId: z.string().min(1),
      user: z.number().int().nonnegative(),
      eventTime: z.number(),
      products: z.array(z.number().int()),
    }),
  ),
});

const parseJson = (bytes: Buffer | Uint8Array): unknown => JSON.parse(Buffer.from(bytes).toString('utf8'));

/** Parses and checks a single shadow record (hostile input: a ZodError or SyntaxError names what is wrong). */
export function decodeShadow(bytes: Buffer | Uint8Array): ShadowResult {
  return shadowSchema.parse(parseJson(bytes));
}

/**
 * Either form, fully checked (for readers other than the evaluator, which
 * checks only what it reads, entry by entry: src/evaluation/records.ts).
 */
export function decodeShadowRecord(bytes: Buffer | Uint8Array): ShadowResult | ShadowBatch {
  const json = parseJson(bytes);
  const schema = (json as { schema?: unknown } | null)?.schema;
  return schema === SHADOW_BATCH_SCHEMA_VERSION ? batchSchema.parse(json) : shadowSchema.parse(json);
}
