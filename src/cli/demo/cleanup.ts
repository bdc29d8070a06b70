/**
 * What the demo stops when it ends, in an order that works: the schedule
 * (and the runs it has going), the workers, the demo's own topics while
 * the broker is still up, and last the stack components the demo started.
 * (Deleting the topics after the stack stopped left a kafkajs admin
 * retrying a dead broker for about 80 s, logging errors, with the topics
 * never deleted.)
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import { stopProcess, type Managed } from '../../process/children';
import { stopStack, type StackComponent } from '../../process/local-stack';

export interface DemoCleanUp {
  keepRunning: boolean;
  children: Managed[];
  client: Client;
  scheduleId: string;
  startedByUs: StackComponent[];
  /** deletes the demo's topics (the broker must be up) */
  deleteTopics: () => Promise<void>;
}

/** The steps, replaceable in tests; the defaults are the real ones. */
export interface CleanUpSteps {
  deleteSchedule: (client: Client, scheduleId: string) => Promise<void>;
  stopProcess: (m: Managed) => Promise<unknown>;
  stopStack: (components: StackComponent[]) => void;
  log: (line: string) => void;
}

const REAL_STEPS: CleanUpSteps = { deleteSchedule, stopProcess: (m) => stopProcess(m), stopStack, log: (l) => console.log(l) };

/** Stops what the demo started (or, with --keep-running, says how to). */
export async function cleanUpDemo(c: DemoCleanUp, steps: CleanUpSteps = REAL_STEPS): Promise<void> {
  const pids = c.children.map((m) => m.child.pid);
  if (c.keepRunning) {
    steps.log(`\n--keep-running: workers (pids ${pids.join(', ')}), schedule ${c.scheduleId} and stack left running.`);
    steps.log(
      `  stop them with: kill ${pids.join(' ')}; SCHEDULE_ID=${c.scheduleId} npm run recommender -- schedule delete; npm run stack:stop`,
    );
    for (const m of c.children) m.child.unref();
    return;
  }
  // The runs it started stay in the web UI's list; the schedule goes.
  await steps.deleteSchedule(c.client, c.scheduleId).catch(() => undefined);
  await Promise.all(c.children.map((m) => steps.stopProcess(m)));
  await c.deleteTopics().catch(() => undefined);
  if (c.startedByUs.length) steps.stopStack(c.startedByUs);
  steps.log(
    `stopped the workers${c.startedByUs.length ? ` and ${c.startedByUs.join(', ')}` : ''} and deleted the demo's schedule ${c.scheduleId}; its runs stay in the web UI.`,
  );
}

/**
 * Deletes the demo's schedule and cancels the runs it started that still run
 * (a tick just before the end), waiting for them while the workers are up: a
 * run left pending would be picked up by the next demo's workers, in that
 * demo's registry and topics.
 */
async function deleteSchedule(client: Client, scheduleId: string): Promise<void> {
  const schedule = client.schedule.getHandle(scheduleId);
  const running = (await schedule.describe()).info.runningActions.map((a) => a.workflow);
  await schedule.delete();
  await Promise.all(
    running.map(async (w) => {
      const handle = client.workflow.getHandle(w.workflowId, w.firstExecutionRunId);
      await handle.cancel();
      await Promise.race([handle.result().catch(() => undefined), sleep(30_000)]);
    }),
  );
}
