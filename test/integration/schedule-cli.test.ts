/**
 * `schedule create` and `schedule backfill` against the real Temporal server:
 * cron time zone, pauseOnFailure, the Schedule's summary and its runs' static
 * summary and details, a clear refusal on an existing schedule; a backfill
 * runs the actions of a past range one after another (workflow code real,
 * activities in memory), and refuses bad ranges saying why.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backfillSchedule, createSchedule, describeBackfill } from '../../src/cli/commands/schedule';
import type { RetrainAndDeployResult } from '../../src/workflows/types';
import { startTestSystem, type TestSystem } from '../helpers/system';
import { startWorker } from '../helpers/temporal';
import { fakeServingActivities, fakeTrainingActivities, fakeWorld } from '../workflows/fake-activities';

let sys: TestSystem;
beforeAll(async () => {
  sys = await startTestSystem({ withWorkers: false, slots: false });
});
afterAll(async () => {
  await sys?.stop();
});

const deleteSchedule = (scheduleId: string) =>
  sys.temporal.schedule
    .getHandle(scheduleId)
    .delete()
    .catch(() => undefined);

describe('schedule create', () => {
  it('sets the time zone, pauseOnFailure, the summaries, and on an existing schedule says what exists and how to replace it', async () => {
    const scheduleId = `it-${sys.id}-sched-cli`;
    const cfg = { ...sys.config, temporal: { ...sys.config.temporal, scheduleId } };
    const flags = {
      cron: '0 3 * * *',
      timeZone: 'Europe/Berlin',
      catchupWindow: '10m',
      paused: true,
      pauseOnFailure: true,
      objective: 'implicit' as const,
    };
    try {
      await createSchedule(sys.temporal, cfg, flags);
      const d = await sys.temporal.schedule.getHandle(scheduleId).describe();
      expect(d.spec.timezone).toBe('Europe/Berlin');
      expect(d.policies.pauseOnFailure).toBe(true);
      const summary =
        "retrain & deploy on cron '0 3 * * *' (Europe/Berlin): implicit objective, data history, overlap SKIP (one deploy at a time)";
      expect(d.memo?.summary).toBe(summary);
      expect(d.state.note).toBe(summary);
      expect(d.action.staticSummary).toBe('retrain & deploy: implicit objective, data history — started by the Temporal Schedule');
      expect(d.action.staticDetails).toMatch(/\*\*Trigger:\*\* started by the Temporal Schedule[\s\S]*"objective": "implicit"/);
      await expect(createSchedule(sys.temporal, cfg, flags)).rejects.toThrow(
        /already exists and is paused \(retrain & deploy on cron.*--replace/,
      );
      await createSchedule(sys.temporal, cfg, { ...flags, paused: false, replace: true });
      expect((await sys.temporal.schedule.getHandle(scheduleId).describe()).state.paused).toBe(false);
    } finally {
      await deleteSchedule(scheduleId);
    }
  });
});

describe('schedule backfill', () => {
  it("runs a past range's actions one after another, each with the schedule's summary", async () => {
    const scheduleId = `it-${sys.id}-backfill`;
    const cfg = { ...sys.config, temporal: { ...sys.config.temporal, scheduleId } };
    const world = fakeWorld();
    const training = await startWorker(cfg.temporal.taskQueues.training, fakeTrainingActivities(world));
    const serving = await startWorker(cfg.temporal.taskQueues.serving, fakeServingActivities(world), false);
    try {
      // hourly, paused: only the backfill starts runs
      await createSchedule(sys.temporal, cfg, { interval: '1h', catchupWindow: '10m', paused: true, readinessTimeout: '5' });
      const now = new Date();
      const hour = 3_600_000;
      const from = new Date(Math.floor(now.getTime() / hour) * hour - 3 * hour + 1000);
      const to = new Date(Math.floor(now.getTime() / hour) * hour - 1000);
      const flags = { from: from.toISOString(), to: to.toISOString() };

      // refused, saying why, before anything starts
      await expect(backfillSchedule(sys.temporal, cfg, { ...flags, from: '2026-12-01' })).rejects.toThrow(
        /--from must be an ISO 8601 time with a zone/,
      );
      await expect(backfillSchedule(sys.temporal, cfg, { from: flags.to, to: flags.from })).rejects.toThrow(
        /--from .* must be before --to/,
      );
      await expect(backfillSchedule(sys.temporal, cfg, { ...flags, to: new Date(now.getTime() + hour).toISOString() })).rejects.toThrow(
        /is in the future/,
      );
      await expect(backfillSchedule(sys.temporal, cfg, { ...flags, maxRuns: 1 })).rejects.toThrow(
        /has 2 actions between .* more than --max-runs 1/,
      );
      const quiet = { from: new Date(to.getTime() - 60_000).toISOString(), to: to.toISOString() };
      await expect(backfillSchedule(sys.temporal, cfg, quiet)).rejects.toThrow(/has no action between .*; nothing to backfill/);
      await expect(
        backfillSchedule(sys.temporal, { ...cfg, temporal: { ...cfg.temporal, scheduleId: `${scheduleId}-none` } }, flags),
      ).rejects.toThrow(/does not exist \(create it with schedule create\)/);

      const plan = await backfillSchedule(sys.temporal, cfg, flags);
      expect(plan.overlap).toBe('BUFFER_ALL');
      expect(plan.times).toHaveLength(2);
      const text = describeBackfill(plan);
      expect(text).toMatch(
        new RegExp(
          `backfill of ${scheduleId} from .*: 2 scheduled times \\(${plan.times[0].toISOString()}, ${plan.times[1].toISOString()}\\)`,
        ),
      );
      expect(text).toMatch(/one after another \(overlap BUFFER_ALL\)/);

      // the two runs appear, for the two scheduled times, and complete one after the other
      const handle = sys.temporal.schedule.getHandle(scheduleId);
      let actions: Awaited<ReturnType<typeof handle.describe>>['info']['recentActions'] = [];
      for (let i = 0; i < 120 && actions.length < 2; i++) {
        actions = (await handle.describe()).info.recentActions;
        if (actions.length < 2) await new Promise((r) => setTimeout(r, 500));
      }
      expect(actions.map((a) => a.scheduledAt.toISOString())).toEqual(plan.times.map((t) => t.toISOString()));
      const results: RetrainAndDeployResult[] = [];
      for (const a of actions) {
        const run = sys.temporal.workflow.getHandle(a.action.workflow.workflowId, a.action.workflow.firstExecutionRunId);
        results.push((await run.result()) as RetrainAndDeployResult);
        expect(await (await run.describe()).staticSummary()).toMatch(/started by the Temporal Schedule$/);
      }
      expect(results.map((r) => r.outcome)).toEqual(['deployed', 'deployed']);
      // never two deploys at once: the second exported only after the first committed
      const steps = world.calls.filter((c) => /^(exportSavedModel|commitActiveSlot)/.test(c));
      expect(steps).toEqual([
        'exportSavedModel recommender/1',
        'commitActiveSlot recommender/1',
        'exportSavedModel recommender1/2',
        'commitActiveSlot recommender1/2',
      ]);
    } finally {
      await deleteSchedule(scheduleId);
      await training.stop();
      await serving.stop();
    }
  }, 180_000);
});
