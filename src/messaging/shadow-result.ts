/**
 * Topic `recommendations-shadow` (TOPIC_SHADOWS), keyed by the customer id
 * like `recommendations` and `purchases` (co-partitioned: docs/design.md,
 * "Quality out"): what a shadow would have answered to a request that the
 * active model answered. A shadow never answers a client; its records exist
 * only to be joined with what the customer then bought.
 *
 *  - `popularity`: the popularity ranking of the serving model's training
 *    history over the same candidates, for every served request;
 *  - `previous-model`: the standby slot's model (the previous version),
 *    scored out of the answer's path for a share of the requests.
 *
 * JSON like the results (docs/serving.md), versioned by `schema`.
 */
import { z } from 'zod';
import type { RankedProduct } from './result';

export const SHADOW_SCHEMA_VERSION = 1;

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

/** Parses and checks a shadow record (hostile input: a ZodError or SyntaxError names what is wrong). */
export function decodeShadow(bytes: Buffer | Uint8Array): ShadowResult {
  const json: unknown = JSON.parse(Buffer.from(bytes).toString('utf8'));
  return shadowSchema.parse(json);
}
