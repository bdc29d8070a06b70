import { z } from 'zod';
import { DEFAULT_MAX_LINE_BYTES } from './csv-lines';

/**
 * Ids are embedding rows (a table has largest id + 1 rows), so one absurd id
 * would allocate an absurd table: ids above these limits are bad lines.
 * 2^24 - 1 leaves room for 16 million customers or products.
 */
export const DEFAULT_MAX_ID = 0xff_ffff;

export const readOptionsSchema = z
  .object({
    /** names the input in reports and errors, e.g. "s3://data/recommender/transactions.csv" */
    source: z.string().min(1),
    /** how many bad lines to keep with line number and reason (all are counted) */
    maxBadLineReports: z.number().int().min(0).default(100),
    maxUserId: z.number().int().min(0).max(0x7fff_ffff).default(DEFAULT_MAX_ID),
    maxProductId: z.number().int().min(0).max(0x7fff_ffff).default(DEFAULT_MAX_ID),
    /** a longer line is a bad line (its bytes are skipped, never made into one string) */
    maxLineBytes: z
      .number()
      .int()
      .min(64)
      .max(256 * 1024 * 1024)
      .default(DEFAULT_MAX_LINE_BYTES),
  })
  .strict();

export type ReadOptions = z.input<typeof readOptionsSchema>;
export type ResolvedReadOptions = z.output<typeof readOptionsSchema>;
