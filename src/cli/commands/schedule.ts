/**
 * `recommender schedule create|describe|pause|unpause|trigger|backfill|delete`:
 * the Temporal Schedule that replaces the seed's recurring pipeline run. Its
 * overlap policy never runs two deploys at once (SKIP), and missed runs are
 * caught up only within the catch-up window. The runs it starts carry a
 * static summary and details (what started them, objective, data mode, the
 * input), and the Schedule itself a summary in its memo and note.
 * The operations on an existing schedule are shared with `recommender retention`.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Command } from 'commander';
import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleOptions,
  type ScheduleSpec,
  type ScheduleDescription,
} from '@temporalio/client';
import type { Duration } from '@temporalio/common';
import { optionalDateToTs, tsToDate } from '@temporalio/common/lib/time';
import { loadConfig, type Config } from '../../config';
import { connectClient } from '../../temporal/connection';
import { scheduleUrl, workflowUrl } from '../ui-links';
import { addInputOptions, buildInput, runMetadata, scheduleSummary, type InputFlags } from '../workflow-input';
import { formatDuration } from '../format';
import { retrainAndDeploy } from '../../workflows';

export async function withClient<T>(fn: (client: Client, cfg: Config) => Promise<T>): Promise<T> {
  const cfg = loadConfig();
  const client = await connectClient(cfg.temporal);
  try {
    return await fn(client, cfg);
  } finally {
    await client.connection.close();
  }
}

/** A missing schedule, said plainly (with what creates it). */
async function onSchedule<T>(scheduleId: string, createWith: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) throw new Error(`schedule ${scheduleId} does not exist (create it with ${createWith})`);
    throw err;
  }
}

export interface SpecFlags {
  interval?: string;
  cron?: string;
  timeZone?: string;
}

/** The spec, and how it reads ("every 1h", "cron '0 3 * * *' (Europe/Berlin)"). */
export function scheduleSpec(flags: SpecFlags, defaultInterval: string): { spec: ScheduleSpec; text: string } {
  if (flags.interval && flags.cron) throw new Error('give either --interval or --cron, not both');
  if (flags.timeZone && !flags.cron) throw new Error('--time-zone applies to --cron specs only');
  if (flags.cron) {
    return {
      spec: { cronExpressions: [flags.cron], timezone: flags.timeZone },
      text: `on cron '${flags.cron}'${flags.timeZone ? ` (${flags.timeZone})` : ' (UTC)'}`,
    };
  }
  const every = flags.interval ?? defaultInterval;
  return { spec: { intervals: [{ every: every as Duration }] }, text: `every ${every}` };
}

export interface LifecycleFlags {
  catchupWindow: string;
  paused?: boolean;
  pauseOnFailure?: boolean;
  triggerNow?: boolean;
  replace?: boolean;
}

/** Creates `options` (deleting a schedule of the same id first with --replace); refuses clearly when it exists. */
export async function createOrReplace(client: Client, options: ScheduleOptions, flags: LifecycleFlags): Promise<void> {
  const { scheduleId } = options;
  if (flags.replace) {
    try {
      await client.schedule.getHandle(scheduleId).delete();
    } catch (err) {
      if (!(err instanceof ScheduleNotFoundError)) throw err;
    }
  }
  const handle = await client.schedule.create(options).catch(async (err: unknown) => {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    const existing = await client.schedule.getHandle(scheduleId).describe();
    const state = existing.state.paused ? `paused${existing.state.note ? ` (${existing.state.note})` : ''}` : 'running';
    throw new Error(`schedule ${scheduleId} already exists and is ${state}; add --replace to delete it and create it anew`);
  });
  // Not `triggerImmediately`: the SDK starts that run with overlap ALLOW_ALL,
  // and the server does not count such runs for the SKIP policy, so the
  // next tick could run concurrently. A SKIP trigger after create instead.
  if (flags.triggerNow) await handle.trigger(ScheduleOverlapPolicy.SKIP);
}

type CreateFlags = InputFlags & SpecFlags & LifecycleFlags;

/**
 * The policies, memo and state both of the project's schedules use: one run at a time (SKIP), and the
 * summary as memo and as note (the note is what the web UI shows on the schedule's page; pause/unpause
 * replace it, the memo keeps it).
 */
export function skipPolicyWithSummary(flags: LifecycleFlags, summary: string) {
  return {
    policies: {
      overlap: ScheduleOverlapPolicy.SKIP,
      catchupWindow: flags.catchupWindow as Duration,
      pauseOnFailure: Boolean(flags.pauseOnFailure),
    },
    memo: { summary },
    state: { paused: Boolean(flags.paused), note: summary },
  };
}

export async function createSchedule(client: Client, cfg: Config, flags: CreateFlags): Promise<void> {
  const { spec, text } = scheduleSpec(flags, '1h');
  const input = buildInput(flags, cfg.temporal.taskQueues.serving);
  const summary = scheduleSummary(input, text);
  await createOrReplace(
    client,
    {
      scheduleId: cfg.temporal.scheduleId,
      spec,
      action: {
        type: 'startWorkflow',
        workflowType: retrainAndDeploy,
        taskQueue: cfg.temporal.taskQueues.training,
        workflowId: cfg.temporal.scheduleId,
        args: [input],
        // the web UI shows these on every run the schedule starts
        ...runMetadata('schedule', input),
      },
      ...skipPolicyWithSummary(flags, summary),
    },
    flags,
  );
}

/** What a backfill would start: the schedule's action times in [from, to), from the server. */
export async function matchingTimes(client: Client, cfg: Config, scheduleId: string, from: Date, to: Date): Promise<Date[]> {
  const response = await client.workflowService.listScheduleMatchingTimes({
    namespace: cfg.temporal.namespace,
    scheduleId,
    startTime: optionalDateToTs(from),
    endTime: optionalDateToTs(to),
  });
  return (response.startTime ?? []).map((t) => tsToDate(t));
}

const BACKFILL_OVERLAP = {
  'buffer-all': ScheduleOverlapPolicy.BUFFER_ALL,
  'buffer-one': ScheduleOverlapPolicy.BUFFER_ONE,
  skip: ScheduleOverlapPolicy.SKIP,
} as const;

export interface BackfillFlags {
  from: string;
  to: string;
  overlap?: string;
  maxRuns?: string | number;
}

export interface BackfillPlan {
  scheduleId: string;
  from: Date;
  to: Date;
  overlap: ScheduleOverlapPolicy;
  times: Date[];
}

function isoFlag(name: string, value: string | undefined): Date {
  // a date alone would be read as UTC midnight, a time without a zone as local time: ask for the whole thing
  if (!value || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(value) || Number.isNaN(Date.parse(value))) {
    throw new Error(`${name} must be an ISO 8601 time with a zone, e.g. 2026-12-01T00:00:00Z, got ${JSON.stringify(value ?? '')}`);
  }
  return new Date(value);
}

/**
 * Runs the schedule's actions of a past time range now, as if that time had
 * passed: by default one after another (overlap BUFFER_ALL), so backfilled
 * deploys never overlap each other or a running one. Refuses a range with no
 * action, one reaching into the future, or more runs than `maxRuns`.
 */
export async function backfillSchedule(client: Client, cfg: Config, flags: BackfillFlags, now = new Date()): Promise<BackfillPlan> {
  const scheduleId = cfg.temporal.scheduleId;
  const from = isoFlag('--from', flags.from);
  const to = isoFlag('--to', flags.to);
  if (from >= to) throw new Error(`--from (${from.toISOString()}) must be before --to (${to.toISOString()})`);
  if (to > now) throw new Error(`--to (${to.toISOString()}) is in the future; the schedule takes the actions after now itself`);
  const overlapName = (flags.overlap ?? 'buffer-all') as keyof typeof BACKFILL_OVERLAP;
  const overlap = BACKFILL_OVERLAP[overlapName];
  if (!overlap)
    throw new Error(`--overlap must be one of ${Object.keys(BACKFILL_OVERLAP).join(', ')}, got ${JSON.stringify(flags.overlap)}`);
  const maxRuns = Number(flags.maxRuns ?? 24);
  if (!Number.isSafeInteger(maxRuns) || maxRuns < 1)
    throw new Error(`--max-runs must be a positive integer, got ${JSON.stringify(flags.maxRuns)}`);
  return onSchedule(scheduleId, 'schedule create', async () => {
    const handle = client.schedule.getHandle(scheduleId);
    await handle.describe(); // a missing schedule, said as such rather than as "no actions"
    const times = await matchingTimes(client, cfg, scheduleId, from, to);
    const range = `between ${from.toISOString()} and ${to.toISOString()}`;
    if (times.length === 0) throw new Error(`schedule ${scheduleId} has no action ${range}; nothing to backfill`);
    if (times.length > maxRuns) {
      throw new Error(
        `schedule ${scheduleId} has ${times.length} actions ${range}, more than --max-runs ${maxRuns}; narrow the range or raise --max-runs`,
      );
    }
    await handle.backfill({ start: from, end: to, overlap });
    return { scheduleId, from, to, overlap, times };
  });
}

export function describeBackfill(plan: BackfillPlan): string {
  const order =
    plan.overlap === ScheduleOverlapPolicy.BUFFER_ALL
      ? 'one after another (overlap BUFFER_ALL), after any run in progress'
      : plan.overlap === ScheduleOverlapPolicy.BUFFER_ONE
        ? 'at most one waiting behind a running one (overlap BUFFER_ONE): later ones are dropped'
        : 'only while no run is in progress (overlap SKIP): the others are skipped';
  const shown = plan.times.slice(0, 5).map((t) => t.toISOString());
  const more = plan.times.length > shown.length ? `, … (${plan.times.length - shown.length} more)` : '';
  return [
    `backfill of ${plan.scheduleId} from ${plan.from.toISOString()} to ${plan.to.toISOString()}: ${plan.times.length} scheduled time${plan.times.length === 1 ? '' : 's'} (${shown.join(', ')}${more})`,
    `  started ${order}; each run's id is ${plan.scheduleId}-<scheduled time>`,
  ].join('\n');
}

/** A schedule as JSON for scripts (`describe --json`). */
function scheduleJson(d: ScheduleDescription): object {
  return {
    scheduleId: d.scheduleId,
    summary: typeof d.memo?.summary === 'string' ? d.memo.summary : undefined,
    spec: d.spec,
    paused: d.state.paused,
    note: d.state.note,
    overlap: d.policies.overlap,
    catchupWindowMs: d.policies.catchupWindow,
    pauseOnFailure: d.policies.pauseOnFailure,
    runSummary: d.action.staticSummary,
    nextActionTimes: d.info.nextActionTimes,
    recentActions: d.info.recentActions.map((a) => ({ at: a.takenAt, workflowId: a.action.workflow.workflowId })),
    running: d.info.runningActions.map((a) => a.workflow.workflowId),
  };
}

/** A schedule for people: state and note, summary, spec, policies, next, recent and running runs. */
function describeSchedule(d: ScheduleDescription): string {
  const summary = typeof d.memo?.summary === 'string' ? d.memo.summary : undefined;
  const every = d.spec.intervals?.map((i) => `every ${formatDuration(Number(i.every))}`) ?? [];
  const crons = d.spec.calendars?.length ? [`calendar spec${d.spec.timezone ? ` (${d.spec.timezone})` : ''}`] : [];
  const lines = [`schedule ${d.scheduleId}: ${d.state.paused ? 'PAUSED' : 'running'}${d.state.note ? ` — ${d.state.note}` : ''}`];
  if (summary && summary !== d.state.note) lines.push(`  summary: ${summary}`);
  lines.push(`  spec: ${[...every, ...crons].join(', ') || '(none)'}`);
  lines.push(
    `  overlap ${String(d.policies.overlap)}, catch-up window ${formatDuration(Number(d.policies.catchupWindow))}, pause on failure ${d.policies.pauseOnFailure ? 'yes' : 'no'}`,
  );
  if (d.action.staticSummary) lines.push(`  each run: ${d.action.staticSummary}`);
  lines.push(`  next runs: ${d.info.nextActionTimes.map((t) => t.toISOString()).join(', ') || '(none)'}`);
  for (const a of d.info.recentActions) lines.push(`  ran ${a.takenAt.toISOString()}: ${a.action.workflow.workflowId}`);
  for (const a of d.info.runningActions) lines.push(`  running: ${a.workflow.workflowId}`);
  return lines.join('\n');
}

/** describe, pause, unpause, trigger and delete of the schedule `idOf(cfg)`. */
export function scheduleOperations(idOf: (cfg: Config) => string, createWith: string): Command[] {
  const on = <T>(fn: (client: Client, cfg: Config, scheduleId: string) => Promise<T>) =>
    withClient((client, cfg) => onSchedule(idOf(cfg), createWith, () => fn(client, cfg, idOf(cfg))));
  return [
    new Command('describe')
      .description('show the schedule, its next and recent runs')
      .option('--json', 'print the raw form')
      .action((f: { json?: boolean }) =>
        on(async (client, cfg, scheduleId) => {
          const d = await client.schedule.getHandle(scheduleId).describe();
          console.log(f.json ? JSON.stringify(scheduleJson(d), null, 2) : describeSchedule(d));
          console.log(`web UI: ${scheduleUrl(cfg.temporal, scheduleId)}`);
        }),
      ),
    new Command('pause')
      .description('pause the schedule')
      .option('--note <text>', 'why')
      .action((f: { note?: string }) =>
        on(async (client, _cfg, scheduleId) => {
          await client.schedule.getHandle(scheduleId).pause(f.note);
          console.log(`paused ${scheduleId}`);
        }),
      ),
    new Command('unpause')
      .description('resume the schedule')
      .option('--note <text>', 'why (default: the note goes back to the schedule summary)')
      .action((f: { note?: string }) =>
        on(async (client, _cfg, scheduleId) => {
          const handle = client.schedule.getHandle(scheduleId);
          // without a note of its own, the note (what the web UI shows) goes back to the schedule's summary
          const summary = (await handle.describe()).memo?.summary;
          await handle.unpause(f.note ?? (typeof summary === 'string' ? summary : undefined));
          console.log(`unpaused ${scheduleId}`);
        }),
      ),
    new Command('trigger').description('start a run now (skipped if one is running)').action(() =>
      on(async (client, cfg, scheduleId) => {
        const started = await triggerSchedule(client, scheduleId);
        if (started) {
          console.log(`triggered ${scheduleId}: run ${started.workflowId} / ${started.runId}`);
          console.log(`web UI: ${workflowUrl(cfg.temporal, started.workflowId, started.runId)}`);
          return;
        }
        // overlap SKIP: say which run is still going, so the user can follow that one instead
        const running = (await client.schedule.getHandle(scheduleId).describe()).info.runningActions[0]?.workflow;
        if (running) {
          console.log(`triggered ${scheduleId}: no run started, ${running.workflowId} is still running (overlap SKIP)`);
          console.log(`web UI: ${workflowUrl(cfg.temporal, running.workflowId, running.firstExecutionRunId)}`);
        } else console.log(`triggered ${scheduleId}: no run started within 5 s (overlap SKIP); see schedule describe`);
      }),
    ),
    new Command('delete').description('delete the schedule (runs already started go on)').action(() =>
      on(async (client, _cfg, scheduleId) => {
        await client.schedule.getHandle(scheduleId).delete();
        console.log(`deleted ${scheduleId}`);
      }),
    ),
  ];
}

/** Triggers the schedule (overlap SKIP) and returns the run it started, if one started within a few seconds. */
export async function triggerSchedule(client: Client, scheduleId: string): Promise<{ workflowId: string; runId: string } | undefined> {
  const handle = client.schedule.getHandle(scheduleId);
  const before = new Set((await handle.describe()).info.recentActions.map((a) => a.action.workflow.firstExecutionRunId));
  await handle.trigger(ScheduleOverlapPolicy.SKIP);
  // the server starts the run asynchronously: look for it for a few seconds
  for (let i = 0; i < 20; i++) {
    const started = (await handle.describe()).info.recentActions.find((a) => !before.has(a.action.workflow.firstExecutionRunId));
    if (started) return { workflowId: started.action.workflow.workflowId, runId: started.action.workflow.firstExecutionRunId };
    await sleep(250);
  }
  return undefined;
}

export function addSpecOptions(cmd: Command, defaultInterval: string): Command {
  return cmd
    .option('--interval <duration>', `run every <duration>, e.g. 1h, 30m, 1d (default ${defaultInterval})`)
    .option('--cron <expr>', 'cron expression instead of an interval')
    .option('--time-zone <iana>', 'time zone of the cron spec, e.g. Europe/Berlin (default UTC)')
    .option('--pause-on-failure', 'pause the schedule when a scheduled run fails')
    .option('--catchup-window <duration>', 'how late a missed run may still start', '10m')
    .option('--paused', 'create it paused')
    .option('--trigger-now', 'also start a run immediately')
    .option('--replace', 'delete an existing schedule of the same id first');
}

export function scheduleCommand(): Command {
  const cmd = new Command('schedule').description('manage the Temporal Schedule of retrain-and-deploy runs');
  cmd.addCommand(
    addInputOptions(addSpecOptions(new Command('create').description('create the schedule (interval or cron)'), '1h')).action(
      (flags: CreateFlags) =>
        withClient(async (client, cfg) => {
          await createSchedule(client, cfg, flags);
          console.log(`created schedule ${cfg.temporal.scheduleId}: ${scheduleUrl(cfg.temporal, cfg.temporal.scheduleId)}`);
        }),
    ),
  );
  for (const op of scheduleOperations((cfg) => cfg.temporal.scheduleId, 'schedule create')) cmd.addCommand(op);
  cmd.addCommand(
    new Command('backfill')
      .description("run the schedule's actions of a past time range now (e.g. after an outage), one after another")
      .requiredOption('--from <iso>', 'start of the range, ISO 8601 with a zone, e.g. 2026-12-01T00:00:00Z')
      .requiredOption('--to <iso>', 'end of the range (not in the future)')
      .option('--overlap <policy>', 'buffer-all (one after another) | buffer-one | skip', 'buffer-all')
      .option('--max-runs <n>', 'refuse a range with more actions than this', '24')
      .action((flags: BackfillFlags) =>
        withClient(async (client, cfg) => {
          const plan = await backfillSchedule(client, cfg, flags);
          console.log(describeBackfill(plan));
          console.log(`web UI: ${scheduleUrl(cfg.temporal, cfg.temporal.scheduleId)}`);
        }),
      ),
  );
  return cmd;
}
