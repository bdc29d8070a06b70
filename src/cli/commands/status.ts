/** `recommender status <workflowId>`: where a run is, and follow it with a progress bar. */
import { Command } from 'commander';
import { SingleBar, Presets } from 'cli-progress';
import { CancelledFailure, WorkflowFailedError, type Client } from '@temporalio/client';
import { loadConfig } from '../../config';
import { connectClient } from '../../temporal/connection';
import { getHandle, readProgress, trainingSteps, type RunProgress } from '../run-progress';
import { workflowUrl } from '../ui-links';

function describeLine(p: RunProgress): string {
  const s = p.status;
  if (!s) return `${p.temporalStatus}`;
  const parts = [`step ${s.step}`];
  if (s.outcome === 'deployed' && s.active) parts.push(`version ${s.active.version} active in slot ${s.active.slot}`);
  else if (s.version !== undefined) parts.push(`version ${s.version} → standby slot ${s.standbySlot}`);
  if (s.candidate) {
    const m = s.candidate.metrics;
    parts.push(`HR@10 ${(m.hitRate10 * 100).toFixed(1)}% (popularity ${(m.popularityHitRate10 * 100).toFixed(1)}%)`);
  }
  if (s.outcome) parts.push(`outcome ${s.outcome}: ${s.reason ?? ''}`);
  return parts.join(' · ');
}

/** Prints step changes and a training progress bar until the run closes; returns its result. */
export async function followRun(client: Client, workflowId: string, intervalMs = 1000): Promise<unknown> {
  const handle = getHandle(client, workflowId);
  const bar = new SingleBar(
    { format: '  training |{bar}| {percentage}% · {label}', hideCursor: true, clearOnComplete: true },
    Presets.shades_classic,
  );
  let barOn = false;
  let lastLine = '';
  for (;;) {
    const p = await readProgress(handle);
    const steps = p.status?.step === 'training' ? trainingSteps(p.heartbeat) : undefined;
    if (steps) {
      const { done, total } = steps;
      const payload = { label: steps.label };
      if (!barOn) {
        bar.start(total, done, payload);
        barOn = true;
      } else {
        bar.setTotal(total);
        bar.update(done, payload);
      }
    } else if (barOn) {
      bar.stop();
      barOn = false;
    }
    const line = describeLine(p);
    if (line !== lastLine && !barOn) {
      console.log(`${new Date().toISOString().slice(11, 19)} ${line}`);
      lastLine = line;
    }
    if (p.closed) break;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  if (barOn) bar.stop();
  try {
    return await handle.result();
  } catch (err) {
    // a cancelled run ends Canceled: its outcome and reason are in its status
    if (err instanceof WorkflowFailedError && err.cause instanceof CancelledFailure) {
      const s = (await readProgress(handle)).status;
      return { outcome: 'cancelled', reason: s?.reason ?? err.cause.message };
    }
    throw err;
  }
}

export function statusCommand(): Command {
  return new Command('status')
    .description('show the status of a run (and follow it with --follow)')
    .argument('<workflowId>', 'the run’s workflow id')
    .option('--follow', 'follow until the run ends')
    .action(async (workflowId: string, flags: { follow?: boolean }) => {
      const cfg = loadConfig();
      const client = await connectClient(cfg.temporal);
      try {
        if (flags.follow) {
          console.log(JSON.stringify(await followRun(client, workflowId), null, 2));
        } else {
          const p = await readProgress(getHandle(client, workflowId));
          console.log(JSON.stringify({ temporalStatus: p.temporalStatus, ...p.status, lastHeartbeat: p.heartbeat }, null, 2));
        }
        console.log(`web UI: ${workflowUrl(cfg.temporal, workflowId)}`);
      } finally {
        await client.connection.close();
      }
    });
}
