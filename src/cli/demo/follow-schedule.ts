/**
 * Follows the runs a schedule starts: each new run's steps, training
 * progress (from the activity's heartbeats), metrics, gate decision and slot
 * switch, until `runs` deployments have happened or the signal aborts.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import type { Config } from '../../config';
import type { RetrainAndDeployResult, RunStatus } from '../../workflows/types';
import { readProgress, trainingSteps } from '../run-progress';
import { workflowUrl } from '../ui-links';
import type { Display } from './display';

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

export interface FollowedRun {
  workflowId: string;
  runId: string;
  result?: RetrainAndDeployResult;
  error?: string;
}

export async function followScheduledRuns(
  client: Client,
  cfg: Config,
  display: Display,
  wantDeployments: number,
  signal: AbortSignal,
): Promise<FollowedRun[]> {
  const schedule = client.schedule.getHandle(cfg.temporal.scheduleId);
  const seen = new Set<string>();
  const runs: FollowedRun[] = [];
  let deployments = 0;
  while (!signal.aborted && deployments < wantDeployments) {
    const d = await schedule.describe();
    const next = [...d.info.recentActions.map((a) => a.action.workflow), ...d.info.runningActions.map((a) => a.workflow)].find(
      (w) => !seen.has(w.firstExecutionRunId),
    );
    if (!next) {
      await sleep(500);
      continue;
    }
    seen.add(next.firstExecutionRunId);
    const run: FollowedRun = { workflowId: next.workflowId, runId: next.firstExecutionRunId };
    runs.push(run);
    display.log(`run ${run.workflowId} started by schedule ${cfg.temporal.scheduleId}`);
    display.log(`  web UI: ${workflowUrl(cfg.temporal, run.workflowId, run.runId)}`);
    await followOne(client, run, display, signal);
    if (run.result?.outcome === 'deployed') deployments += 1;
  }
  return runs;
}

async function followOne(client: Client, run: FollowedRun, display: Display, signal: AbortSignal): Promise<void> {
  const handle = client.workflow.getHandle(run.workflowId, run.runId);
  let lastStep = '';
  let printedMetrics = false;
  let printedTrigger = false;
  let status: RunStatus | undefined;
  while (!signal.aborted) {
    const p = await readProgress(handle);
    status = p.status;
    if (status && status.step !== lastStep) {
      if (lastStep === 'training') display.trainingDone();
      lastStep = status.step;
      const extra =
        status.step === 'refreshing-data'
          ? ''
          : status.step === 'exporting' && status.version !== undefined
            ? ` (version ${status.version} → standby slot ${status.standbySlot})`
            : '';
      if (status.step !== 'done') display.log(`  step ${status.step}${extra}`);
    }
    if (status?.data && !printedTrigger) {
      printedTrigger = true;
      display.log(`  ${status.data.trigger ? `started by new data: ${status.data.trigger}` : 'started by the schedule'}`);
    }
    const steps = status?.step === 'training' ? trainingSteps(p.heartbeat) : undefined;
    if (steps) display.trainingProgress(steps.done, steps.total, steps.label);
    if (status?.candidate && !printedMetrics) {
      printedMetrics = true;
      const m = status.candidate.metrics;
      display.trainingDone();
      display.log(
        `  trained in ${status.candidate.trainingSeconds.toFixed(1)} s on ${status.data?.rows ?? '?'} baskets: HR@10 ${pct(m.hitRate10)}, NDCG@10 ${m.ndcg10.toFixed(3)} (popularity HR@10 ${pct(m.popularityHitRate10)})`,
      );
    }
    if (p.closed) break;
    await sleep(500);
  }
  try {
    run.result = (await handle.result()) as RetrainAndDeployResult;
    const r = run.result;
    if (r.outcome === 'deployed') display.log(`  SWITCH: slot ${r.slot} now serves version ${r.version} (${r.url})`);
    else display.log(`  ${r.outcome}: ${r.reason}`);
  } catch (err) {
    run.error = err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
    display.log(`  run failed: ${run.error}`);
  }
}
