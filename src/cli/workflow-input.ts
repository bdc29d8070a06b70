/**
 * Builds a workflow input from command-line flags and `--input` JSON,
 * validated before a run is started with the same strict schema the workflow
 * checks again inside (src/workflows/input-schema.ts); and the run's static
 * summary and details that the web UI shows.
 */
import { z } from 'zod';
import { DEFAULT_OBJECTIVE, TRAINING_OBJECTIVES } from '../ml/objectives';
import { checkSizeBounds, describeIssues, retrainAndDeployInputSchema } from '../workflows/input-schema';
import { describeRetention, resolveRetentionOptions } from '../workflows/retention-plan';
import { DEFAULT_DATA_MODE, type RetentionInput, type RetrainAndDeployInput, type RollbackInput } from '../workflows/types';

const positiveInt = z.coerce.number().int().positive();

export const inputFlagsSchema = z.object({
  objective: z.enum(TRAINING_OBJECTIVES).optional(),
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
    let json: unknown;
    try {
      json = JSON.parse(f.input);
    } catch (err) {
      throw new Error(`--input is not valid JSON: ${(err as Error).message}`);
    }
    base = checkInput(json, '--input');
  }
  const input: RetrainAndDeployInput = {
    ...base,
    data: {
      ...base.data,
      ...(f.dataMode && { mode: f.dataMode }),
      ...(f.users && { users: f.users }),
      ...(f.products && { products: f.products }),
      ...(f.seed !== undefined && { seed: f.seed }),
    },
    training: { ...base.training, ...(f.objective && { objective: f.objective }), ...(f.epochs && { epochs: f.epochs }) },
    gate: { ...base.gate, ...(f.tolerance !== undefined && { tolerance: f.tolerance }) },
    servingTaskQueue: base.servingTaskQueue ?? servingTaskQueue,
  };
  if (f.readinessTimeout) input.readinessTimeoutSeconds = f.readinessTimeout;
  return checkInput(input, 'the workflow input');
}

/** The schema's verdict, plus the ML core's list of objectives (which the workflow leaves to training). */
export function checkInput(input: unknown, what: string): RetrainAndDeployInput {
  const parsed = retrainAndDeployInputSchema.safeParse(input);
  if (!parsed.success) throw new Error(`${what} is invalid: ${describeIssues(parsed.error)}`);
  const objective = parsed.data.training?.objective;
  if (objective !== undefined && !(TRAINING_OBJECTIVES as readonly string[]).includes(objective)) {
    throw new Error(`${what} is invalid: training.objective: unknown objective "${objective}" (known: ${TRAINING_OBJECTIVES.join(', ')})`);
  }
  try {
    return checkSizeBounds(parsed.data as RetrainAndDeployInput);
  } catch (err) {
    throw new Error(`${what} is invalid: ${(err as Error).message}`);
  }
}

export type Trigger = 'schedule' | 'cli' | 'rollback' | 'online-policy';

const TRIGGERS: Record<Trigger, string> = {
  schedule: 'started by the Temporal Schedule',
  cli: 'started by hand (recommender run)',
  rollback: 'started by hand (recommender rollback)',
  'online-policy': 'started by the online rollback policy (online evaluator)',
};

/** staticSummary / staticDetails (Markdown) of a run, for workflow start and schedule actions. */
export function runMetadata(trigger: Trigger, input: RetrainAndDeployInput): { staticSummary: string; staticDetails: string } {
  const objective = input.training?.objective ?? DEFAULT_OBJECTIVE;
  const mode = input.data?.mode ?? DEFAULT_DATA_MODE;
  const epochs = input.training?.epochs;
  return {
    staticSummary: `retrain & deploy: ${objective} objective${epochs ? `, ${epochs} epochs` : ''}, data ${mode} — ${TRIGGERS[trigger]}`,
    staticDetails: [
      `- **Trigger:** ${TRIGGERS[trigger]}`,
      `- **Objective:** \`${objective}\``,
      `- **Data:** mode \`${mode}\` (its sha256 digest appears in the run's current details once read)`,
      `- **Gate:** \`${JSON.stringify(input.gate ?? {})}\``,
      '',
      '```json',
      JSON.stringify(input, null, 2),
      '```',
    ].join('\n'),
  };
}

export function rollbackMetadata(input: RollbackInput, evidenceDetails?: string): { staticSummary: string; staticDetails: string } {
  const to = input.version === undefined ? 'the previous deployment' : `version ${input.version}`;
  const trigger: Trigger = input.evidence ? 'online-policy' : 'rollback';
  return {
    staticSummary: input.evidence ? `rollback to ${to} on online evidence: ${input.evidence}` : `rollback to ${to} — ${TRIGGERS.rollback}`,
    staticDetails: [
      `- **Trigger:** ${TRIGGERS[trigger]}`,
      `- **Target:** ${to}`,
      ...(evidenceDetails ? ['', evidenceDetails] : []),
      '',
      '```json',
      JSON.stringify(input, null, 2),
      '```',
    ].join('\n'),
  };
}

/** The Schedule's own summary (memo `summary`, and the note it starts with): what its runs do. */
export function scheduleSummary(input: RetrainAndDeployInput, spec: string): string {
  const objective = input.training?.objective ?? DEFAULT_OBJECTIVE;
  return `retrain & deploy ${spec}: ${objective} objective, data ${input.data?.mode ?? DEFAULT_DATA_MODE}, overlap SKIP (one deploy at a time)`;
}

const RETENTION_TRIGGERS = {
  schedule: 'started by the Temporal Schedule of retention',
  cli: 'started by hand (recommender retention run)',
} as const;

/** staticSummary / staticDetails of a retention run, for the schedule's action and `retention run`. */
export function retentionMetadata(
  trigger: keyof typeof RETENTION_TRIGGERS,
  input: RetentionInput,
): { staticSummary: string; staticDetails: string } {
  const options = resolveRetentionOptions(input);
  return {
    staticSummary: `retention: ${describeRetention(options)} — ${RETENTION_TRIGGERS[trigger]}`,
    staticDetails: [
      `- **Trigger:** ${RETENTION_TRIGGERS[trigger]}`,
      `- **Keeps:** the registry's active and standby versions always; the newest ${options.keepVersions} versions and ${options.keepLineage} lineage records per slot`,
      `- **Removes:** older versions and lineage, candidates older than ${options.candidatesOlderThanHours} h whose run has ended, staging of crashed publishes older than ${options.stagingOlderThanHours} h, ingested segments folded into a history older than ${options.segmentsOlderThanHours} h${options.dryRun ? ' (dry run: reports only)' : ''}`,
      '- **Skips** the whole run while a deployment holds the deploy lock',
      '',
      '```json',
      JSON.stringify(input, null, 2),
      '```',
    ].join('\n'),
  };
}

export function addInputOptions<T extends { option(flags: string, description: string): T }>(cmd: T): T {
  return cmd
    .option('--objective <name>', `training objective: ${TRAINING_OBJECTIVES.join(' | ')} (default ${DEFAULT_OBJECTIVE})`)
    .option('--epochs <n>', 'training epochs')
    .option('--data-mode <mode>', 'history (default: the base plus ingested purchases) | existing | generate | append-day')
    .option('--users <n>', 'users in generated data')
    .option('--products <n>', 'products in generated data')
    .option('--seed <n>', 'random seed for generated data')
    .option('--tolerance <x>', 'quality gate: allowed HR@10 drop vs the active model (absolute)')
    .option('--readiness-timeout <s>', 'seconds the standby may take to serve the new version')
    .option('--input <json>', 'the whole workflow input as JSON (flags override it)');
}
