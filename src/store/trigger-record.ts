/**
 * What triggered a run, from the data trigger to the run (issue 22): a
 * Schedule's trigger carries no payload, so the data publisher writes the
 * reason here just before it triggers the Schedule, and the run's
 * refreshData takes it — the first run first scheduled within `maxAgeMs`
 * after it was written, by a conditional write, so that one run only says
 * it was started by data (an activity retry of that run reads it again).
 */
import type { Client } from 'minio';
import { pendingTriggerKey } from './layout';
import { readVersioned, writeIfUnchanged } from './versioned-object';

export interface PendingTrigger {
  /** e.g. "12,400 new purchases since version 7" */
  text: string;
  records: string;
  /** the active model's version the count starts from, when known */
  sinceVersion?: number;
  writtenAt: string;
  takenBy?: { workflowId: string; runId: string };
}

interface Where {
  client: Client;
  bucket: string;
  dataPrefix: string;
}

const json = (v: PendingTrigger): Buffer => Buffer.from(JSON.stringify(v, null, 2));

export async function writePendingTrigger(w: Where, trigger: Omit<PendingTrigger, 'takenBy'>): Promise<void> {
  const body = json(trigger);
  await w.client.putObject(w.bucket, pendingTriggerKey(w.dataPrefix), body, body.length, { 'Content-Type': 'application/json' });
}

/** A run's part: the text of the trigger that started it, or undefined (the clock or a person started it). */
export async function takePendingTrigger(
  w: Where,
  run: { workflowId: string; runId: string; scheduledAtMs: number },
  maxAgeMs = 120_000,
): Promise<string | undefined> {
  const current = await readVersioned(w.client, w.bucket, pendingTriggerKey(w.dataPrefix));
  if (!current) return undefined;
  const pending = JSON.parse(current.body.toString('utf8')) as PendingTrigger;
  if (pending.takenBy) return pending.takenBy.runId === run.runId ? pending.text : undefined;
  const age = run.scheduledAtMs - Date.parse(pending.writtenAt);
  // written before this run was scheduled (a little clock skew allowed), and not long before
  if (!(age >= -5_000 && age <= maxAgeMs)) return undefined;
  const taken = { ...pending, takenBy: { workflowId: run.workflowId, runId: run.runId } };
  return (await writeIfUnchanged(w.client, w.bucket, pendingTriggerKey(w.dataPrefix), json(taken), current.etag))
    ? pending.text
    : undefined;
}
