import { z } from 'zod';

/**
 * Knobs of the synthetic purchase history. Defaults reproduce the seed's
 * scale (1,000 customers, 300 products, ~60,000 product purchases) with
 * structure a collaborative filter can learn: Zipf-like popularity, log-normal
 * customer activity, repeat purchases of a few "staple" products, and latent
 * taste groups that prefer subsets of the catalogue.
 */
export const generateOptionsSchema = z
  .object({
    seed: z.number().int().min(0).max(0xffff_ffff).default(1),
    users: z.number().int().min(1).max(16_777_216).default(1000),
    products: z.number().int().min(2).max(16_777_216).default(300),
    /** mean purchases (product occurrences, repeats included) per customer in the history */
    meanPurchasesPerUser: z.number().positive().max(100_000).default(60),
    /** log-space sigma of the per-customer activity multiplier (mean 1) */
    activitySigma: z.number().min(0).max(3).default(0.8),
    /** basket sizes are uniform in 1..maxBasketSize */
    maxBasketSize: z.number().int().min(1).max(1000).default(20),
    /** global popularity of the product at rank r is 1/(r+1)^popularityExponent */
    popularityExponent: z.number().min(0).max(3).default(0.9),
    /** number of latent taste groups; default round(sqrt(products) / 1.5), at least 2 */
    tasteGroups: z.number().int().min(1).optional(),
    /** inside a group, product weight is popularity^groupPopularityExponent (flatter than global) */
    groupPopularityExponent: z.number().min(0).max(3).default(0.5),
    /** share of products that belong to a second taste group */
    productSecondGroupShare: z.number().min(0).max(1).default(0.2),
    /** share of customers that belong to a second taste group */
    userSecondGroupShare: z.number().min(0).max(1).default(0.3),
    /** share of fresh (non-repeat) picks drawn from the customer's groups rather than global popularity */
    tasteShare: z.number().min(0).max(1).default(0.8),
    /** share of picks that re-buy one of the customer's staples */
    repeatShare: z.number().min(0).max(1).default(0.3),
    /** each customer has 1..maxStaples staple products */
    maxStaples: z.number().int().min(1).max(100).default(5),
    /** expected share of customers buying on a generated "day" (scaled by their activity) */
    dayActiveShare: z.number().min(0).max(1).default(0.1),
  })
  .strict();

export type GenerateOptions = z.input<typeof generateOptionsSchema>;
export type ResolvedGenerateOptions = z.output<typeof generateOptionsSchema> & { tasteGroups: number };

export function resolveGenerateOptions(options: GenerateOptions = {}): ResolvedGenerateOptions {
  const parsed = generateOptionsSchema.parse(options);
  const tasteGroups = parsed.tasteGroups ?? Math.max(2, Math.round(Math.sqrt(parsed.products) / 1.5));
  if (tasteGroups > parsed.products) {
    throw new Error(`tasteGroups (${tasteGroups}) cannot exceed products (${parsed.products})`);
  }
  return { ...parsed, tasteGroups };
}
