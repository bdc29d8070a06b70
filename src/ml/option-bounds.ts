/**
 * The bounds of the training options, defined once: the ML core's option
 * schema (options.ts) and the workflow's input schema
 * (src/workflows/input-schema.ts) both build on them. Pure zod with no other
 * import, because workflow code imports it (deterministic sandbox; the lint
 * rule for src/workflows allows this one module of src/ml).
 */
import { z } from 'zod';

export const trainingOptionBounds = {
  embeddingDim: z.number().int().min(1).max(1024),
  learningRate: z.number().positive().max(1),
  batchSize: z
    .number()
    .int()
    .min(1)
    .max(1 << 20),
  epochs: z.number().int().min(1).max(1000),
  negatives: z.number().int().min(1).max(100),
  seed: z.number().int().min(0).max(0xffff_ffff),
  maxEvalUsers: z.number().int().min(1),
};

/**
 * Bounds of generated data asked for in a workflow input: the scale that
 * `npm run bench:scale` runs within its memory bound (1,000,000 customers ×
 * 100,000 products, docs/ml.md). Larger asks would end the training worker
 * (issue 24, item 13).
 */
export const sizeBounds = {
  users: z.number().max(1_000_000),
  products: z.number().max(100_000),
  /** no more than the customers the data may have */
  evalUsers: z.number().max(1_000_000),
};
