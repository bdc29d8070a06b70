/**
 * Live progress of a run, read the way the web UI reads it: the workflow's
 * `status` query, plus the training activity's last heartbeat (per-batch
 * progress stays in heartbeats so that it never bloats the history).
 */
import { defaultPayloadConverter, type Client, type WorkflowHandle } from '@temporalio/client';
import { statusQuery } from '../workflows/definitions';
import type { RunStatus, TrainingHeartbeat } from '../workflows/types';

export interface RunProgress {
  status?: RunStatus;
  heartbeat?: TrainingHeartbeat & { activity: string };
  closed: boolean;
  temporalStatus: string;
}

export async function readProgress(handle: WorkflowHandle): Promise<RunProgress> {
  const description = await handle.describe();
  const closed = description.status.name !== 'RUNNING';
  let status: RunStatus | undefined;
  try {
    status = await handle.query(statusQuery);
  } catch {
    // a run that has not started its first task yet has no handler
  }
  let heartbeat: RunProgress['heartbeat'];
  for (const pending of description.raw.pendingActivities ?? []) {
    const payload = pending.heartbeatDetails?.payloads?.[0];
    if (!payload) continue;
    const details = defaultPayloadConverter.fromPayload<TrainingHeartbeat>(payload);
    heartbeat = { ...details, activity: pending.activityType?.name ?? '' };
  }
  return { status, heartbeat, closed, temporalStatus: description.status.name };
}

export function getHandle(client: Client, workflowId: string, runId?: string): WorkflowHandle {
  return client.workflow.getHandle(workflowId, runId);
}

/**
 * Training progress as steps of a bar (batches over all epochs), from a
 * heartbeat; undefined for heartbeats without an epoch (the evaluation phase).
 */
export function trainingSteps(h: TrainingHeartbeat | undefined): { done: number; total: number; label: string } | undefined {
  if (!h || typeof h.epoch !== 'number' || typeof h.epochs !== 'number') return undefined;
  const batches = h.batches || 1;
  return {
    done: (Math.max(h.epoch, 1) - 1) * batches + (h.batch ?? batches),
    total: Math.max(h.epochs, 1) * batches,
    label: h.stage ? `${h.stage} step ${h.epoch}/${h.epochs}` : `epoch ${h.epoch}/${h.epochs} · loss ${h.loss?.toFixed(4) ?? '-'}`,
  };
}
