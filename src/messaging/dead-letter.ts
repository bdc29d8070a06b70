/**
 * The encoding of dead letters on `mdata-dlq` and `purchases-dlq`: a JSON envelope that carries
 * the reason, where the record came from and its original bytes (base64),
 * so a dead letter can be inspected or replayed without the source topic's
 * retention. The reason and source are repeated as headers for tools that
 * filter on headers without parsing values.
 */
import type { IHeaders, Message } from 'kafkajs';
import { z } from 'zod';
import type { SourceRecord } from './request-id';

/** Why a request or purchase record was dead-lettered (the `code` of a dead letter). */
export const REJECTION_CODES = [
  /** no value at all (a tombstone or an empty record) */
  'empty-message',
  /** not a RecommendationRequest protobuf (random bytes, truncated, wrong wire types) */
  'undecodable',
  /** an id beyond ±2^53: it cannot be carried exactly through JSON to the model */
  'unsafe-id',
  'negative-id',
  'no-products',
  'too-many-products',
  /** a purchase's id beyond the configured largest user or product id (docs/design.md, "Purchases in") */
  'id-too-large',
  /** a purchase without its idempotency key, or with one that is too long or not printable ASCII without ',' */
  'bad-purchase-id',
  /** a purchase time not after 1970, or too far after the record's own Kafka timestamp */
  'bad-time',
] as const;

export type RejectionCode = (typeof REJECTION_CODES)[number];

export const DEAD_LETTER_SCHEMA_VERSION = 1;

/**
 * Most bytes of the original key and of the original value a dead letter
 * embeds (each). A ~1 MB bad request must not make a dead letter over the
 * broker's 1 MB message limit (base64 grows it by a third): the first bytes
 * are kept and the letter says how many the original had.
 */
export const DEFAULT_MAX_EMBED_BYTES = 64 * 1024;

export interface DeadLetter {
  schema: typeof DEAD_LETTER_SCHEMA_VERSION;
  code: RejectionCode;
  reason: string;
  source: SourceRecord;
  /** original key and value, base64; null when the record had none */
  key: string | null;
  value: string | null;
  /** the original key's and value's length in bytes (null when absent), also when truncated */
  keyBytes?: number | null;
  valueBytes?: number | null;
  /** true when `key` or `value` holds only the first `maxEmbedBytes` of the original */
  truncated?: boolean;
  /** Kafka timestamp of the original record, epoch ms */
  timestamp: number;
  /** when it was dead-lettered, ISO 8601 */
  deadLetteredAt: string;
}

export function buildDeadLetter(
  source: SourceRecord,
  original: { key: Buffer | null; value: Buffer | null; timestamp: number },
  rejection: { code: RejectionCode; reason: string },
  at: Date,
  maxEmbedBytes = DEFAULT_MAX_EMBED_BYTES,
): DeadLetter {
  const embed = (b: Buffer | null): string | null => (b ? b.subarray(0, maxEmbedBytes).toString('base64') : null);
  const truncated = (original.key?.length ?? 0) > maxEmbedBytes || (original.value?.length ?? 0) > maxEmbedBytes;
  return {
    schema: DEAD_LETTER_SCHEMA_VERSION,
    code: rejection.code,
    reason: rejection.reason,
    source,
    key: embed(original.key),
    value: embed(original.value),
    keyBytes: original.key ? original.key.length : null,
    valueBytes: original.value ? original.value.length : null,
    truncated,
    timestamp: original.timestamp,
    deadLetteredAt: at.toISOString(),
  };
}

/**
 * The Kafka message for a dead letter: keyed like the original, so it lands
 * beside its neighbours (a key over the embed limit is cut to it, so the
 * message stays under the broker's limit).
 */
export function deadLetterMessage(letter: DeadLetter, originalKey: Buffer | null, maxEmbedBytes = DEFAULT_MAX_EMBED_BYTES): Message {
  const headers: IHeaders = {
    'dlq-code': letter.code,
    'dlq-reason': letter.reason,
    'dlq-source-topic': letter.source.topic,
    'dlq-source-partition': String(letter.source.partition),
    'dlq-source-offset': letter.source.offset,
    'content-type': 'application/json',
  };
  if (letter.truncated) headers['dlq-truncated'] = 'true';
  const key = originalKey && originalKey.length > maxEmbedBytes ? originalKey.subarray(0, maxEmbedBytes) : originalKey;
  return { key, value: Buffer.from(JSON.stringify(letter), 'utf8'), headers };
}

const deadLetterSchema = z.object({
  schema: z.literal(DEAD_LETTER_SCHEMA_VERSION),
  code: z.enum(REJECTION_CODES),
  reason: z.string(),
  source: z.object({ topic: z.string(), partition: z.number().int(), offset: z.string() }),
  key: z.string().nullable(),
  value: z.string().nullable(),
  keyBytes: z.number().int().nullable().optional(),
  valueBytes: z.number().int().nullable().optional(),
  truncated: z.boolean().optional(),
  timestamp: z.number(),
  deadLetteredAt: z.string(),
});

export function decodeDeadLetter(bytes: Buffer | Uint8Array): DeadLetter {
  const json: unknown = JSON.parse(Buffer.from(bytes).toString('utf8'));
  return deadLetterSchema.parse(json);
}
