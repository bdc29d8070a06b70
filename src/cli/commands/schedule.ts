/**
 * `recommender schedule create|describe|pause|unpause|trigger|delete`: the
 * Temporal Schedule that replaces the seed's recurring pipeline run. Its
 * overlap policy never runs two deploys at once (SKIP), and missed runs are
 * caught up only within the catch-up window.
 */
import { Command } from 'commander';
import { ScheduleAlreadyRunning, ScheduleNotFoundError, ScheduleOverlapPolicy, type Client, type ScheduleSpec } from '@temporalio/client';
import type { Duration } from '@temporalio/common';
import { loadConfig, type Config } from '../../config';
import { connectClient } from '../../temporal/connection';
import { scheduleUrl, workflowUrl } from '../ui-links';
import { addInputOptions, buildInput, type InputFlags } from '../workflow-input';

async function withClient<T>(fn: (client: Client, cfg: Config) => Promise<T>): Promise<T> {
  const cfg = loadConfig();
  const client = await connectClient(cfg.temporal);
  try {
    return await fn(client, cfg);
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) throw new Error(`schedule ${cfg.temporal.scheduleId} does not exist (create it first)`);
    throw err;
  } finally {
    await client.connection.close();
  }
}

type CreateFlags = InputFlags & {
  interval?: string;
  cron?: string;
  timeZone?: string;
  catchupWindow: string;
  paused?: boolean;
  pauseOnFailure?: boolean;
  triggerNow?: boolean;
  replace?: boolean;
};

export async function createSchedule(client: Client, cfg: Config, flags: CreateFlags): Promise<void> {
  if (flags.interval && flags.cron) throw new Error('give either --interval or --cron, not both');
  if (flags.timeZone && !flags.cron) throw new Error('--time-zone applies to --cron specs only');
  const spec: ScheduleSpec = flags.cron
    ? { cronExpressions: [flags.cron], timezone: flags.timeZone }
    : { intervals: [{ every: (flags.interval ?? '1h') as Duration }] };
  const options = {
    scheduleId: cfg.temporal.scheduleId,
    spec,
    action: {
      type: 'startWorkflow' as const,
      workflowType: cfg.temporal.workflowType,
      taskQueue: cfg.temporal.taskQueues.training,
      workflowId: cfg.temporal.scheduleId,
      args: [buildInput(flags, cfg.temporal.taskQueues.serving)],
    },
    policies: {
      overlap: ScheduleOverlapPolicy.SKIP,
      catchupWindow: flags.catchupWindow as Duration,
      pauseOnFailure: Boolean(flags.pauseOnFailure),
    },
    // Not `triggerImmediately`: the SDK starts that run with overlap ALLOW_ALL,
    // and the server does not count such runs for the SKIP policy, so the
    // next tick could deploy concurrently. A SKIP trigger after create instead.
    state: { paused: Boolean(flags.paused) },
  };
  if (flags.replace) {
    try {
      await client.schedule.getHandle(cfg.temporal.scheduleId).delete();
    } catch (err) {
      if (!(err instanceof ScheduleNotFoundError)) throw err;
    }
  }
  const handle = await client.schedule.create(options).catch(async (err: unknown) => {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    const existing = await client.schedule.getHandle(cfg.temporal.scheduleId).describe();
    const state = existing.state.paused ? `paused${existing.state.note ? ` (${existing.state.note})` : ''}` : 'running';
    throw new Error(`schedule ${cfg.temporal.scheduleId} already exists and is ${state}; add --replace to delete it and create it anew`);
  });
  if (flags.triggerNow) await handle.trigger(ScheduleOverlapPolicy.SKIP);
}

export function scheduleCommand(): Command {
  const cmd = new Command('schedule').description('manage the Temporal Schedule of retrain-and-deploy runs');
  cmd.addCommand(
    addInputOptions(
      new Command('create')
        .description('create the schedule (interval or cron)')
        .option('--interval <duration>', 'run every <duration>, e.g. 1h, 30m (default 1h)')
        .option('--cron <expr>', 'cron expression instead of an interval')
        .option('--time-zone <iana>', 'time zone of the cron spec, e.g. Europe/Berlin (default UTC)')
        .option('--pause-on-failure', 'pause the schedule when a scheduled run fails')
        .option('--catchup-window <duration>', 'how late a missed run may still start', '10m')
        .option('--paused', 'create it paused')
        .option('--trigger-now', 'also start a run immediately')
        .option('--replace', 'delete an existing schedule of the same id first'),
    ).action((flags: CreateFlags) =>
      withClient(async (client, cfg) => {
        await createSchedule(client, cfg, flags);
        console.log(`created schedule ${cfg.temporal.scheduleId}: ${scheduleUrl(cfg.temporal, cfg.temporal.scheduleId)}`);
      }),
    ),
  );
  cmd.addCommand(
    new Command('describe')
      .description('show the schedule, its next and recent runs')
      .option('--json', 'print the raw form')
      .action((f: { json?: boolean }) =>
        withClient(async (client, cfg) => {
          const d = await client.schedule.getHandle(cfg.temporal.scheduleId).describe();
          if (!f.json) {
            const every = d.spec.intervals?.map((i) => `every ${humanMs(Number(i.every))}`) ?? [];
            const crons = d.spec.calendars?.length ? [`calendar spec${d.spec.timezone ? ` (${d.spec.timezone})` : ''}`] : [];
            console.log(`schedule ${d.scheduleId}: ${d.state.paused ? 'PAUSED' : 'running'}${d.state.note ? ` — ${d.state.note}` : ''}`);
            console.log(`  spec: ${[...every, ...crons].join(', ') || '(none)'}`);
            console.log(
              `  overlap ${String(d.policies.overlap)}, catch-up window ${humanMs(Number(d.policies.catchupWindow))}, pause on failure ${d.policies.pauseOnFailure ? 'yes' : 'no'}`,
            );
            console.log(`  next runs: ${d.info.nextActionTimes.map((t) => t.toISOString()).join(', ') || '(none)'}`);
            for (const a of d.info.recentActions) console.log(`  ran ${a.takenAt.toISOString()}: ${a.action.workflow.workflowId}`);
            for (const a of d.info.runningActions) console.log(`  running: ${a.workflow.workflowId}`);
            console.log(`web UI: ${scheduleUrl(cfg.temporal, cfg.temporal.scheduleId)}`);
            return;
          }
          console.log(
            JSON.stringify(
              {
                scheduleId: d.scheduleId,
                spec: d.spec,
                paused: d.state.paused,
                note: d.state.note,
                overlap: d.policies.overlap,
                catchupWindowMs: d.policies.catchupWindow,
                nextActionTimes: d.info.nextActionTimes,
                recentActions: d.info.recentActions.map((a) => ({ at: a.takenAt, workflowId: a.action.workflow.workflowId })),
                running: d.info.runningActions.map((a) => a.workflow.workflowId),
              },
              null,
              2,
            ),
          );
          console.log(`web UI: ${scheduleUrl(cfg.temporal, cfg.temporal.scheduleId)}`);
        }),
      ),
  );
  cmd.addCommand(
    new Command('pause')
      .description('pause the schedule')
      .option('--note <text>', 'why')
      .action((f: { note?: string }) =>
        withClient(async (client, cfg) => {
          await client.schedule.getHandle(cfg.temporal.scheduleId).pause(f.note);
          console.log(`paused ${cfg.temporal.scheduleId}`);
        }),
      ),
  );
  cmd.addCommand(
    new Command('unpause')
      .description('resume the schedule')
      .option('--note <text>', 'why')
      .action((f: { note?: string }) =>
        withClient(async (client, cfg) => {
          await client.schedule.getHandle(cfg.temporal.scheduleId).unpause(f.note);
          console.log(`unpaused ${cfg.temporal.scheduleId}`);
        }),
      ),
  );
  cmd.addCommand(
    new Command('trigger').description('start a run now (skipped if one is running)').action(() =>
      withClient(async (client, cfg) => {
        const handle = client.schedule.getHandle(cfg.temporal.scheduleId);
        const before = new Set((await handle.describe()).info.recentActions.map((a) => a.action.workflow.firstExecutionRunId));
        await handle.trigger(ScheduleOverlapPolicy.SKIP);
        // the server starts the run asynchronously: look for it for a few seconds
        for (let i = 0; i < 20; i++) {
          const started = (await handle.describe()).info.recentActions.find((a) => !before.has(a.action.workflow.firstExecutionRunId));
          if (started) {
            const { workflowId, firstExecutionRunId: runId } = started.action.workflow;
            console.log(`triggered ${cfg.temporal.scheduleId}: run ${workflowId} / ${runId}`);
            console.log(`web UI: ${workflowUrl(cfg.temporal, workflowId, runId)}`);
            return;
          }
          await new Promise((r) => setTimeout(r, 250));
        }
        console.log(`triggered ${cfg.temporal.scheduleId} (no run started: one may be running already, overlap SKIP)`);
      }),
    ),
  );
  cmd.addCommand(
    new Command('delete').description('delete the schedule (runs already started go on)').action(() =>
      withClient(async (client, cfg) => {
        await client.schedule.getHandle(cfg.temporal.scheduleId).delete();
        console.log(`deleted ${cfg.temporal.scheduleId}`);
      }),
    ),
  );
  return cmd;
}

function humanMs(ms: number): string {
  if (!Number.isFinite(ms)) return 'unknown';
  const units: [number, string][] = [
    [86_400_000, 'd'],
    [3_600_000, 'h'],
    [60_000, 'm'],
    [1000, 's'],
  ];
  const parts: string[] = [];
  let rest = ms;
  for (const [size, unit] of units) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  return parts.join(' ') || `${ms} ms`;
}
