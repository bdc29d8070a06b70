/** Builds a workflow input from command-line flags, validated with zod. */
import { z } from 'zod';
import type { RetrainAndDeployInput } from '../workflows/types';

const positiveInt = z.coerce.number().int().positive();

export const inputFlagsSchema = z.object({
  objective: z.enum(['implicit', 'seed']).optional(),
  epochs: positiveInt.optional(),
  dataMode: z.enum(['existing', 'generate', 'append-day']).optional(),
  users: positiveInt.optional(),
  products: positiveInt.optional(),
  seed: z.coerce.number().int().nonnegative().optional(),
  tolerance: z.coerce.number().min(0).max(1).optional(),
  readinessTimeout: positiveInt.optional(),
  input: z.string().optional(),
});

export type InputFlags = z.input<typeof inputFlagsSchema>;

export function buildInput(flags: InputFlags, servingTaskQueue: string): RetrainAndDeployInput {
  const f = inputFlagsSchema.parse(flags);
  let base: RetrainAndDeployInput = {};
  if (f.input) {
    try {
      base = JSON.parse(f.input) as RetrainAndDeployInput;
    } catch (err) {
      throw new Error(`--input is not valid JSON: ${(err as Error).message}`);
    }
  }
  const input: RetrainAndDeployInput = {
    ...base,
    data: { ...base.data, ...(f.dataMode && { mode: f.dataMode }), ...(f.users && { users: f.users }), ...(f.products && { products: f.products }), ...(f.seed !== undefined && { seed: f.seed }) },
    training: { ...base.training, ...(f.objective && { objective: f.objective }), ...(f.epochs && { epochs: f.epochs }) },
    gate: { ...base.gate, ...(f.tolerance !== undefined && { tolerance: f.tolerance }) },
    servingTaskQueue: base.servingTaskQueue ?? servingTaskQueue,
  };
  if (f.readinessTimeout) input.readinessTimeoutSeconds = f.readinessTimeout;
  return input;
}

export function addInputOptions<T extends { option(flags: string, description: string): T }>(cmd: T): T {
  return cmd
    .option('--objective <name>', 'training objective: implicit (default) or seed')
    .option('--epochs <n>', 'training epochs')
    .option('--data-mode <mode>', 'existing | generate | append-day')
    .option('--users <n>', 'users in generated data')
    .option('--products <n>', 'products in generated data')
    .option('--seed <n>', 'random seed for generated data')
    .option('--tolerance <x>', 'quality gate: allowed HR@10 drop vs the active model (absolute)')
    .option('--readiness-timeout <s>', 'seconds the standby may take to serve the new version')
    .option('--input <json>', 'the whole workflow input as JSON (flags override it)');
}
