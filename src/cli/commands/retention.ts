/**
 * `recommender retention create|describe|pause|unpause|trigger|delete|run`:
 * retention of the model store on a Temporal Schedule of its own (default
 * id `recommender-retention`, every day), apart from the retrain schedule so
 * that each can be paused, timed and inspected alone. `run` starts one
 * retention run now and prints its report (`--dry-run` to see first).
 */
import { randomUUID } from 'node:crypto';
import { Command } from 'commander';
import type { Client } from '@temporalio/client';
import { z } from 'zod';
import type { Config } from '../../config';
import { describeIssues, retentionInputSchema } from '../../workflows/input-schema';
import { renderRetentionDetails, resolveRetentionOptions, describeRetention } from '../../workflows/retention-plan';
import type { RetentionInput, RetentionReport } from '../../workflows/types';
import { scheduleUrl, workflowUrl } from '../ui-links';
import { retentionMetadata } from '../workflow-input';
import {
  addSpecOptions,
  createOrReplace,
  scheduleOperations,
  scheduleSpec,
  skipPolicyWithSummary,
  withClient,
  type LifecycleFlags,
  type SpecFlags,
} from './schedule';
import { retention } from '../../workflows';

const flagsSchema = z.object({
  keepVersions: z.coerce.number().optional(),
  keepLineage: z.coerce.number().optional(),
  candidatesOlderThanHours: z.coerce.number().optional(),
  stagingOlderThanHours: z.coerce.number().optional(),
  segmentsOlderThanHours: z.coerce.number().optional(),
  dryRun: z.boolean().optional(),
});

export type RetentionFlags = z.input<typeof flagsSchema>;

/** The retention input from the flags, checked with the schema the workflow checks again. */
export function retentionInput(flags: RetentionFlags): RetentionInput {
  // the flag names the user typed, not the field names
  const invalid = (error: z.ZodError) =>
    new Error(
      `retention options are invalid: ${describeIssues(error).replace(/\b([a-z]+[A-Z][A-Za-z]*)\b/g, (m) => `--${m.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`)}`,
    );
  const f = flagsSchema.safeParse(flags);
  if (!f.success) throw invalid(f.error);
  const parsed = retentionInputSchema.safeParse(Object.fromEntries(Object.entries(f.data).filter(([, v]) => v !== undefined)));
  if (!parsed.success) throw invalid(parsed.error);
  return parsed.data as RetentionInput;
}

function addRetentionOptions(cmd: Command): Command {
  return cmd
    .option('--keep-versions <n>', 'newest versions kept per slot besides the active and standby ones (default 3)')
    .option('--keep-lineage <n>', 'lineage records kept per slot (default: --keep-versions)')
    .option('--candidates-older-than-hours <h>', 'remove candidates older than this whose run has ended (default 24)')
    .option('--staging-older-than-hours <h>', 'remove staging of crashed publishes older than this (default 24)')
    .option('--segments-older-than-hours <h>', 'remove ingested segments folded into the newest history and older than this (default 168)')
    .option('--dry-run', 'report what would be removed, remove nothing');
}

type CreateFlags = RetentionFlags & SpecFlags & LifecycleFlags;

export async function createRetentionSchedule(client: Client, cfg: Config, flags: CreateFlags): Promise<RetentionInput> {
  const input = retentionInput(flags);
  const { spec, text } = scheduleSpec(flags, '1d');
  const summary = `retention ${text}: ${describeRetention(resolveRetentionOptions(input))}`;
  const scheduleId = cfg.temporal.retentionScheduleId;
  await createOrReplace(
    client,
    {
      scheduleId,
      spec,
      action: {
        type: 'startWorkflow',
        workflowType: retention,
        taskQueue: cfg.temporal.taskQueues.training,
        workflowId: scheduleId,
        args: [input],
        ...retentionMetadata('schedule', input),
      },
      ...skipPolicyWithSummary(flags, summary),
    },
    flags,
  );
  return input;
}

/** One retention run now, outside the schedule; resolves to its report. */
export async function runRetention(
  client: Client,
  cfg: Config,
  input: RetentionInput,
  workflowId = `recommender-retention-manual-${randomUUID()}`,
) {
  const handle = await client.workflow.start(retention, {
    taskQueue: cfg.temporal.taskQueues.training,
    workflowId,
    args: [input],
    ...retentionMetadata('cli', input),
  });
  return { handle, report: handle.result() as Promise<RetentionReport> };
}

/** The report as the run's current details show it, without the Markdown table syntax. */
export function formatReport(input: RetentionInput, report: RetentionReport): string {
  return renderRetentionDetails(resolveRetentionOptions(input), report)
    .split('\n')
    .filter((l) => !/^\| ---/.test(l))
    .map((l) => l.replace(/^### /, '').replace(/\*\*/g, '').replace(/`/g, ''))
    .join('\n');
}

export function retentionCommand(): Command {
  const cmd = new Command('retention').description('prune the model store: its own Temporal Schedule, or one run now');
  cmd.addCommand(
    addRetentionOptions(addSpecOptions(new Command('create').description('create the retention schedule (default every 1d)'), '1d')).action(
      (flags: CreateFlags) =>
        withClient(async (client, cfg) => {
          const input = await createRetentionSchedule(client, cfg, flags);
          const id = cfg.temporal.retentionScheduleId;
          console.log(`created schedule ${id}: ${describeRetention(resolveRetentionOptions(input))}`);
          console.log(`web UI: ${scheduleUrl(cfg.temporal, id)}`);
        }),
    ),
  );
  for (const op of scheduleOperations((cfg) => cfg.temporal.retentionScheduleId, 'retention create')) cmd.addCommand(op);
  cmd.addCommand(
    addRetentionOptions(new Command('run').description('run retention once now and print what it removed')).action(
      (flags: RetentionFlags) =>
        withClient(async (client, cfg) => {
          const input = retentionInput(flags);
          const { handle, report } = await runRetention(client, cfg, input);
          console.log(`started ${handle.workflowId}: ${workflowUrl(cfg.temporal, handle.workflowId, handle.firstExecutionRunId)}`);
          const r = await report;
          console.log(formatReport(input, r));
          if (r.skipped) process.exitCode = 3;
        }),
    ),
  );
  return cmd;
}
