/** `recommender status <workflowId>`: where a run is, and follow it with a progress bar. */
import { setTimeout as sleep } from 'node:timers/promises';
import { Command } from 'commander';
import { SingleBar, Presets } from 'cli-progress';
import { CancelledFailure, WorkflowFailedError, type Client } from '@temporalio/client';
import { loadConfig } from '../../config';
import { connectClient } from '../../temporal/connection';
import { getHandle, readProgress, trainingSteps, type RunProgress } from '../run-progress';
import type { RetrainAndDeployResult } from '../../workflows/types';
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

/**
 * Prints step changes and a training progress bar until the run closes;
 * returns its result. Without a terminal (a log, CI) the bar would print
 * nothing: one line per epoch instead.
 */
export async function followRun(client: Client, workflowId: string, intervalMs = 1000): Promise<unknown> {
  const handle = getHandle(client, workflowId);
  const tty = Boolean(process.stdout.isTTY);
  const stamp = () => new Date().toISOString().slice(11, 19);
  let lastEpochLine = '';
  const bar = new SingleBar(
    { format: '  training |{bar}| {percentage}% · {label}', hideCursor: true, clearOnComplete: true },
    Presets.shades_classic,
  );
  let barOn = false;
  let lastLine = '';
  for (;;) {
    const p = await readProgress(handle);
    const steps = p.status?.step === 'training' ? trainingSteps(p.heartbeat) : undefined;
    if (steps && !tty) {
      const epochLine = `  training ${steps.label.replace(/ · loss .*/, '')}`;
      if (epochLine !== lastEpochLine) console.log(`${stamp()} ${epochLine} · ${steps.label.split(' · ')[1] ?? ''}`);
      lastEpochLine = epochLine;
    } else if (steps) {
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
      console.log(`${stamp()} ${line}`);
      lastLine = line;
    }
    if (p.closed) break;
    await sleep(intervalMs);
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

/** A run's result for people: outcome, version and slot, quality against popularity, the URL. */
export function formatResult(result: unknown): string {
  if (!result || typeof result !== 'object') return `result: ${JSON.stringify(result)}`;
  const r = result as Partial<RetrainAndDeployResult>;
  const lines = [`outcome ${r.outcome ?? 'unknown'}: ${r.reason ?? ''}`];
  if (r.version !== undefined) lines.push(`  version ${r.version}${r.slot ? ` in slot ${r.slot}` : ''}`);
  const m = r.metrics;
  if (m && Number.isFinite(m.hitRate10)) {
    const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
    lines.push(
      `  HR@10 ${pct(m.hitRate10)}, NDCG@10 ${m.ndcg10.toFixed(3)} (popularity ${pct(m.popularityHitRate10)}, ${m.popularityNdcg10.toFixed(3)}) on ${m.evaluatedUsers} customers`,
    );
  }
  if (r.data) lines.push(`  data ${r.data.bucket}/${r.data.transactionsKey} (sha256 ${r.data.sha256.slice(0, 12)}…)`);
  if (r.url) lines.push(`  predict URL ${r.url}`);
  return lines.join('\n');
}

export function statusCommand(): Command {
  return new Command('status')
    .description('show the status of a run (and follow it with --follow)')
    .argument('<workflowId>', 'the run’s workflow id')
    .option('--follow', 'follow until the run ends')
    .option('--json', 'print the raw status / result as JSON')
    .action(async (workflowId: string, flags: { follow?: boolean; json?: boolean }) => {
      const cfg = loadConfig();
      const client = await connectClient(cfg.temporal);
      try {
        if (flags.follow) {
          const result = await followRun(client, workflowId);
          console.log(flags.json ? JSON.stringify(result, null, 2) : formatResult(result));
        } else {
          const p = await readProgress(getHandle(client, workflowId));
          const raw = { temporalStatus: p.temporalStatus, ...p.status, lastHeartbeat: p.heartbeat };
          console.log(flags.json ? JSON.stringify(raw, null, 2) : `${p.temporalStatus} · ${describeLine(p)}`);
        }
        console.log(`web UI: ${workflowUrl(cfg.temporal, workflowId)}`);
      } finally {
        await client.connection.close();
      }
    });
}
