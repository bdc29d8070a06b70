/**
 * The one schema of the workflows' inputs, checked inside the workflow before
 * any activity runs and by the CLI before it starts a run. Strict: an unknown
 * key is a mistake (a typo would otherwise be ignored silently). Pure zod,
 * deterministic: safe in the workflow sandbox.
 */
import { z } from 'zod';
import { sizeBounds, trainingOptionBounds } from '../ml/option-bounds';
import type { RetentionInput, RetrainAndDeployInput, RollbackInput } from './types';

const count = z.number().int().positive();

export const dataOptionsSchema = z.strictObject({
  mode: z.enum(['history', 'existing', 'generate', 'append-day']).optional(),
  users: count.optional(),
  products: count.optional(),
  seed: z.number().int().nonnegative().optional(),
});

/**
 * The ML core's bounds (src/ml/option-bounds.ts), under the workflow's names
 * (objective → mode, evalUsers → maxEvalUsers). The objective is any
 * name here: the ML core owns the list and refuses an unknown one (a
 * non-retryable error), so a new objective needs no workflow change.
 */
export const trainingInputSchema = z.strictObject({
  objective: z.string().min(1).optional(),
  epochs: trainingOptionBounds.epochs.optional(),
  batchSize: trainingOptionBounds.batchSize.optional(),
  embeddingDim: trainingOptionBounds.embeddingDim.optional(),
  learningRate: trainingOptionBounds.learningRate.optional(),
  negatives: trainingOptionBounds.negatives.optional(),
  evalUsers: trainingOptionBounds.maxEvalUsers.optional(),
  seed: trainingOptionBounds.seed.optional(),
  heartbeatTimeoutSeconds: z.number().int().min(5).max(3600).optional(),
});

export const gateOptionsSchema = z.strictObject({
  tolerance: z.number().min(0).max(1).optional(),
  minHitRate: z.number().min(0).max(1).optional(),
  popularityMargin: z.number().nonnegative().optional(),
  minOnlineFollowed: z.number().int().min(0).max(1_000_000_000).optional(),
});

const readinessTimeoutSeconds = z.number().int().positive().max(86_400);
const servingTaskQueue = z.string().min(1).max(1000);

export const retrainAndDeployInputSchema = z.strictObject({
  data: dataOptionsSchema.optional(),
  training: trainingInputSchema.optional(),
  gate: gateOptionsSchema.optional(),
  readinessTimeoutSeconds: readinessTimeoutSeconds.optional(),
  servingTaskQueue: servingTaskQueue.optional(),
});

export const rollbackInputSchema = z.strictObject({
  version: count.optional(),
  readinessTimeoutSeconds: readinessTimeoutSeconds.optional(),
  servingTaskQueue: servingTaskQueue.optional(),
  evidence: z.string().min(1).max(2000).optional(),
  onlyIfActive: z.strictObject({ slot: z.string().min(1).max(200), version: count }).optional(),
});

// 0 is safe: a running run's candidate is kept whatever its age, and no publish stages while retention holds the deploy lock
const hours = z
  .number()
  .min(0)
  .max(24 * 366);

export const retentionInputSchema = z.strictObject({
  keepVersions: z.number().int().min(1).max(1000).optional(),
  keepLineage: z.number().int().min(1).max(100_000).optional(),
  candidatesOlderThanHours: hours.optional(),
  stagingOlderThanHours: hours.optional(),
  segmentsOlderThanHours: hours.optional(),
  dryRun: z.boolean().optional(),
});

/** "gate.tolerance: Invalid input: expected number, received string; …" */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((i) => {
      const where = i.path.length ? i.path.join('.') : '(input)';
      const keys = i.code === 'unrecognized_keys' ? ` (${i.keys.map((k) => (i.path.length ? `${where}.${k}` : k)).join(', ')})` : '';
      return `${where}: ${i.message}${keys}`;
    })
    .join('; ');
}

export class InputError extends Error {
  override readonly name = 'InputError';
}

function check<T>(schema: z.ZodType, what: string, input: unknown): T {
  // a run started without arguments passes undefined
  const parsed = schema.safeParse(input ?? {});
  if (!parsed.success) throw new InputError(`invalid ${what} input: ${describeIssues(parsed.error)}`);
  return parsed.data as T;
}

export const parseRetrainAndDeployInput = (input: unknown): RetrainAndDeployInput =>
  check<RetrainAndDeployInput>(retrainAndDeployInputSchema, 'retrainAndDeploy', input);

/**
 * Upper bounds of the sizes a run may ask for (data.users, data.products,
 * training.evalUsers), checked after the schema. Separate from it so that
 * the workflow applies them behind patched(): a run started before they
 * existed replays as it ran.
 */
const sizeBoundsSchema = z.object({
  data: z.object({ users: sizeBounds.users.optional(), products: sizeBounds.products.optional() }).optional(),
  training: z.object({ evalUsers: sizeBounds.evalUsers.optional() }).optional(),
});

export function checkSizeBounds(input: RetrainAndDeployInput): RetrainAndDeployInput {
  check(sizeBoundsSchema, 'retrainAndDeploy', input);
  return input;
}

export const parseRollbackInput = (input: unknown): RollbackInput => check<RollbackInput>(rollbackInputSchema, 'rollbackDeployment', input);

export const parseRetentionInput = (input: unknown): RetentionInput => check<RetentionInput>(retentionInputSchema, 'retention', input);
