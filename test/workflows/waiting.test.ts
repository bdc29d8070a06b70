/**
 * The workflow's waiting, timed on the time-skipping test server: the deploy
 * lock's back-off and its two-hour limit, the readiness step's overall limit
 * across retries, the minute a cancel by update alone waits. Minutes to hours
 * of server time pass in seconds; retry back-off and timers are skipped, an
 * activity attempt in flight is not.
 */
import { ActivityFailure, WorkflowFailedError } from '@temporalio/client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cancelRunUpdate, statusQuery } from '../../src/workflows/definitions';
import { fakeWorld } from './fake-activities';
import { startHarness, type Harness } from './harness';

// A server of its own for each test: time skipping is global to a server, and a
// run that ends at an activity's timeout can leave the server's time-skipping
// lock held (seen once in ~40 runs: the next test's retries then ran in real
// time), so one test's end must not stall the next.
let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await h?.close();
});

const MINUTE = 60_000;
/** an attempt's own run time (real time: not skipped) on a busy two-core machine */
const SLACK_MS = 1_000;

const gaps = (times: number[]) => times.slice(1).map((t, i) => t - times[i]);

describe('retrainAndDeploy waiting (time-skipping test server)', () => {
  it('waits for a deploy lock another run holds for 40 minutes, backing off 2 s × 1.5 up to 30 s, then deploys', async () => {
    const world = fakeWorld({ lockHeldForMs: 40 * MINUTE });
    const { result } = await h.run(world);
    expect(result).toMatchObject({ outcome: 'deployed', version: 1 });
    const waits = gaps(world.lockAttemptsAtMs);
    // deployLockOptions: initial 2 s, coefficient 1.5, at most 30 s
    const backOff = [2000, 3000, 4500, 6750, 10_125, 15_187, 22_781];
    backOff.forEach((ms, i) => expect(Math.abs(waits[i] - ms), `wait ${i + 1}: ${waits[i]} ms`).toBeLessThan(SLACK_MS));
    for (const w of waits.slice(backOff.length)) {
      expect(w).toBeGreaterThanOrEqual(30_000 - SLACK_MS);
      expect(w).toBeLessThan(30_000 + SLACK_MS);
    }
    const waited = world.lockAttemptsAtMs.at(-1)! - world.lockAttemptsAtMs[0];
    expect(waited).toBeGreaterThanOrEqual(40 * MINUTE);
    expect(waited).toBeLessThan(40 * MINUTE + 30_000 + SLACK_MS);
    // nothing past the gate ran before the lock was taken
    const firstAfterLock = world.calls.findIndex((c) => c !== 'refreshData' && c !== 'trainModel' && c !== 'acquireDeployLock');
    expect(world.calls.slice(firstAfterLock).includes('acquireDeployLock')).toBe(false);
  });

  it('gives up when the deploy lock stays held past its two-hour limit: the run fails before the gate, nothing exported', async () => {
    const world = fakeWorld({ lockHeldForMs: Infinity });
    const { result, status } = await h.run(world);
    expect(result).toBeInstanceOf(WorkflowFailedError);
    // the server stops retrying at the activity's schedule-to-close limit and reports the last attempt's failure
    const failure = (result as WorkflowFailedError).cause;
    expect(failure).toBeInstanceOf(ActivityFailure);
    expect((failure as ActivityFailure).retryState).toBe('TIMEOUT');
    expect(String(failure?.cause)).toMatch(/another deployment is in progress/);
    const waited = world.lockAttemptsAtMs.at(-1)! - world.lockAttemptsAtMs[0];
    expect(waited).toBeGreaterThan(2 * 60 * MINUTE - 30_000 - SLACK_MS);
    expect(waited).toBeLessThanOrEqual(2 * 60 * MINUTE);
    expect(world.calls.some((c) => c === 'getDeploymentState' || c.startsWith('export') || c === 'releaseDeployLock')).toBe(false);
    expect(status).toMatchObject({ step: 'done', outcome: 'failed' });
  });

  it('fails the readiness step at its overall limit across retries (timeout + 60 s): version removed, nothing published', async () => {
    const world = fakeWorld({ readinessUnreachable: true });
    const { result, status } = await h.run(world, { readinessTimeoutSeconds: 600 });
    expect(result).toBeInstanceOf(WorkflowFailedError);
    expect((result as WorkflowFailedError).cause?.message).toMatch(
      /^standby slot recommender did not serve version 1: .*; the active slot keeps serving$/,
    );
    // readinessOptions: retried every 1, 2, 4, 8, then 10 s until 660 s after the first attempt
    const times = world.readinessAttemptsAtMs;
    expect(
      gaps(times)
        .slice(0, 5)
        .map((g) => Math.round(g / 1000)),
    ).toEqual([1, 2, 4, 8, 10]);
    expect(times.at(-1)! - times[0]).toBeGreaterThan(650_000 - SLACK_MS);
    expect(times.at(-1)! - times[0]).toBeLessThanOrEqual(660_000);
    expect(world.removed).toEqual([{ slot: 'recommender', version: 1 }]);
    expect(world.published.size).toBe(0);
    expect(status).toMatchObject({ step: 'done', outcome: 'failed' });
  });

  it('completes as cancelled a minute after a cancelRun update that no Temporal cancel follows', async () => {
    // training must still run when the update arrives; its time is not skipped (an activity in flight)
    const world = fakeWorld({ trainingDelayMs: 3000 });
    let updatedAt = 0;
    const { result, status, described } = await h.run(world, {}, async (workflowId) => {
      const handle = h.client.workflow.getHandle(workflowId);
      for (let i = 0; i < 100 && (await handle.query(statusQuery)).step !== 'training'; i++) await new Promise((r) => setTimeout(r, 100));
      // an older client: the update only (cancelRun in src/cli/commands/cancel.ts also cancels the run)
      updatedAt = await h.env.currentTimeMs(); // before: the run starts its minute as it takes the update
      expect(await handle.executeUpdate(cancelRunUpdate, { args: ['update only'] })).toBe('cancelling at step training');
    });
    expect(result).toMatchObject({ outcome: 'cancelled', reason: 'update only' });
    expect(described.status.name).toBe('COMPLETED');
    expect(described.closeTime!.getTime() - updatedAt).toBeGreaterThanOrEqual(MINUTE);
    expect(status).toMatchObject({ step: 'done', outcome: 'cancelled' });
    expect(world.calls.some((c) => c.startsWith('export'))).toBe(false);
  });
});
