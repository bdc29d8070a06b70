/** The workflow's own logic with in-memory activities, on Temporal's time-skipping test server. */
import { CancelledFailure, WorkflowFailedError, WorkflowUpdateFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cancelRun } from '../../src/cli/commands/cancel';
import { cancelRunUpdate, statusQuery } from '../../src/workflows/definitions';
import type { RetrainAndDeployResult } from '../../src/workflows/types';
import { fakeWorld, metrics } from './fake-activities';
import { startHarness, type Harness } from './harness';
import { renderDetails } from '../../src/workflows/run-details';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

describe('retrainAndDeploy workflow logic (fake activities, time-skipping test server)', () => {
  it('deploys to the standby slot in order: train, gate, export, ready, publish, commit', async () => {
    const world = fakeWorld();
    const { result, status } = await h.run(world);
    expect(result).toMatchObject({ outcome: 'deployed', version: 1, slot: 'recommender' });
    expect(world.calls).toEqual([
      'refreshData',
      'trainModel',
      'acquireDeployLock',
      'getDeploymentState',
      'exportSavedModel recommender/1',
      'renewDeployLock',
      'waitForStandbyReady recommender/1',
      'renewDeployLock',
      'publishModelUrl recommender/1',
      'commitActiveSlot recommender/1',
      'releaseDeployLock',
    ]);
    expect(status).toMatchObject({
      step: 'done',
      outcome: 'deployed',
      active: { slot: 'recommender', version: 1 },
      standbySlot: 'recommender1',
    });
  });

  it('gives readiness a duration, measured on the serving worker, not a deadline on the workflow clock (issue 24 item 11)', async () => {
    const world = fakeWorld();
    await h.run(world, { readinessTimeoutSeconds: 42 });
    expect(world.readinessInputs).toEqual([{ slot: 'recommender', version: 1, timeoutMs: 42_000 }]);
  });

  it("carries its lease's generation (fencing token) to every registry call (issue 24 item 11)", async () => {
    const world = fakeWorld();
    await h.run(world);
    expect(world.registryFences).toEqual([7, 7]);
  });

  it("a run the data trigger started says so in its summary (the result's reason, the status, the memo)", async () => {
    const world = fakeWorld({ dataTrigger: '12,400 new purchases since version 7' });
    const { result, status } = await h.run(world);
    const reason = (result as RetrainAndDeployResult).reason;
    expect(reason).toMatch(/^started by new data \(12,400 new purchases since version 7\); version 1 serves from slot recommender/);
    expect(status).toMatchObject({ reason });
  });

  it('rejects a model worse than the active one and leaves the active slot untouched', async () => {
    const world = fakeWorld({ candidateHitRate: 0.2 });
    const active = {
      slot: 'recommender',
      version: 4,
      url: 'u',
      metrics: metrics(0.3),
      kind: 'deploy' as const,
      workflowId: 'w',
      runId: 'r',
      deployedAt: '',
    };
    world.state = { active, standbySlot: 'recommender1', maxVersion: 4, history: [active] };
    const { result } = await h.run(world, { gate: { tolerance: 0.05 } });
    expect(result).toMatchObject({ outcome: 'rejected' });
    expect((result as RetrainAndDeployResult).reason).toMatch(/worse than the active model's 30\.0% by 10\.0%/);
    expect(world.calls.some((c) => c.startsWith('exportSavedModel') || c.startsWith('publish') || c.startsWith('commit'))).toBe(false);
  });

  it('fails cleanly when the standby is not ready in time: version removed, nothing published', async () => {
    const world = fakeWorld({ readiness: 'deadline' });
    const { result, status } = await h.run(world);
    expect(result).toBeInstanceOf(WorkflowFailedError);
    const cause = (result as WorkflowFailedError).cause;
    expect(cause?.message).toMatch(/standby slot recommender did not serve version 1: .*deadline.*; the active slot keeps serving/);
    expect(world.removed).toEqual([{ slot: 'recommender', version: 1 }]);
    expect(world.published.size).toBe(0);
    expect(world.calls.some((c) => c.startsWith('commit'))).toBe(false);
    expect(status).toMatchObject({ outcome: 'failed' });
  });

  it('publishes once when the publish activity is retried', async () => {
    const world = fakeWorld({ failPublishOnce: true });
    const { result } = await h.run(world);
    expect(result).toMatchObject({ outcome: 'deployed' });
    expect(world.calls.filter((c) => c.startsWith('publishModelUrl'))).toHaveLength(2);
    expect([...world.published.keys()]).toEqual(['recommender/1']);
  });

  it("reads the active model's online figures, shows them, and waits for enough of them when the gate asks (minOnlineFollowed)", async () => {
    const world = fakeWorld({ onlineFollowed: 90 });
    await h.run(world);
    const { result, status } = await h.run(world, { gate: { minOnlineFollowed: 100 } });
    expect(result).toMatchObject({ outcome: 'rejected' });
    expect((result as RetrainAndDeployResult).reason).toBe(
      'the active model has 90 followed purchases online; the gate requires 100 before replacing it',
    );
    expect(world.calls).toContain('getOnlineFigures recommender/1');
    expect(status.activeOnline).toMatchObject({ slot: 'recommender', version: 1, followed: 90, hits: 30 });
    world.onlineFollowed = 100;
    const again = await h.run(world, { gate: { minOnlineFollowed: 100 } });
    expect(again.result).toMatchObject({ outcome: 'deployed', version: 2 });
    // the web UI's current details: the active model's online figures beside the candidate's offline ones
    const details = renderDetails(again.status);
    expect(details).toContain('**Active model online:** version 1 (slot `recommender`): 0 requests answered, 100 purchases followed one');
    expect(details).toMatch(/online HR@10 33\.0 % \(95 % \d+\.\d % … \d+\.\d %\)/);
    expect(details.indexOf('| HR@10 |')).toBeLessThan(details.indexOf('**Active model online:**'));
  });

  it('deploys the next model to the other slot at the next version', async () => {
    const world = fakeWorld();
    await h.run(world);
    const { result } = await h.run(world);
    expect(result).toMatchObject({ outcome: 'deployed', version: 2, slot: 'recommender1' });
  });

  it('cancels cleanly through the cancelRun update: the run ends Canceled, outcome "cancelled"', async () => {
    const world = fakeWorld({ trainingDelayMs: 30_000 });
    const { result, status, described } = await h.run(world, {}, async (workflowId) => {
      const handle = h.client.workflow.getHandle(workflowId);
      for (let i = 0; i < 100 && (await handle.query(statusQuery)).step !== 'training'; i++) await new Promise((r) => setTimeout(r, 100));
      expect(await cancelRun(h.client, workflowId, 'test says stop')).toBe('cancelling at step training');
      // a second cancel is refused by the validator while the first is under way (or the run has
      // ended: the dev server says "completed"; the time-skipping server, when the update meets
      // the run as it closes, "update <id> not found")
      const again = await handle.executeUpdate(cancelRunUpdate, { args: ['again'] }).then(
        () => undefined,
        (err: unknown) => err as WorkflowUpdateFailedError,
      );
      expect(String(again?.cause?.message ?? again?.message)).toMatch(
        /already being cancelled|already finished|completed|aborted by closing|^update \S+ not found$/,
      );
    });
    expect(result).toBeInstanceOf(WorkflowFailedError);
    expect((result as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
    expect(described.status.name).toBe('CANCELLED');
    expect(status).toMatchObject({ step: 'done', outcome: 'cancelled', reason: 'test says stop' });
    expect(described.memo).toMatchObject({ outcome: 'cancelled', reason: 'test says stop' });
    expect(world.calls.some((c) => c.startsWith('export'))).toBe(false);
  });

  it('a cancel that races the export still removes the version the export finishes writing (issue 24, item 3)', async () => {
    const world = fakeWorld({ exportDelayMs: 3000 });
    const { result, status } = await h.run(world, {}, async (workflowId) => {
      const handle = h.client.workflow.getHandle(workflowId);
      for (let i = 0; i < 100 && (await handle.query(statusQuery)).step !== 'exporting'; i++) await new Promise((r) => setTimeout(r, 50));
      expect(await cancelRun(h.client, workflowId, 'cancel during export')).toBe('cancelling at step exporting');
    });
    expect(result).toBeInstanceOf(WorkflowFailedError);
    expect(status).toMatchObject({ outcome: 'cancelled' });
    expect(world.calls).toContain('exportSavedModel recommender/1');
    // the export ended after the cancel; its version does not stay behind
    expect(world.removed).toEqual([{ slot: 'recommender', version: 1 }]);
    expect(world.published.size).toBe(0);
  });

  it('refuses cancelRun once the URL is being published, and the run deploys', async () => {
    const world = fakeWorld({ publishDelayMs: 3000 });
    const { result } = await h.run(world, {}, async (workflowId) => {
      const handle = h.client.workflow.getHandle(workflowId);
      for (let i = 0; i < 200 && (await handle.query(statusQuery)).step !== 'publishing'; i++) await new Promise((r) => setTimeout(r, 50));
      const refused = await handle.executeUpdate(cancelRunUpdate, { args: ['too late'] }).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(refused).toBeInstanceOf(WorkflowUpdateFailedError);
      expect(String((refused as WorkflowUpdateFailedError).cause?.message)).toMatch(
        /version 1 is already being published.*roll back instead/,
      );
    });
    expect(result).toMatchObject({ outcome: 'deployed', version: 1 });
    expect(world.removed).toEqual([]);
  });

  it('does not retry training options that the ML core refuses (ZodError)', async () => {
    const world = fakeWorld({ checkTrainingOptions: true });
    const { result } = await h.run(world, { training: { objective: 'no-such-objective' } });
    expect(result).toBeInstanceOf(WorkflowFailedError);
    const activityFailure = (result as WorkflowFailedError).cause;
    expect(String((activityFailure?.cause as Error | undefined)?.message)).toMatch(/mode/);
    expect(world.calls.filter((c) => c === 'trainModel')).toHaveLength(1);
    expect(world.calls.some((c) => c.startsWith('export'))).toBe(false);
  });

  it.each([
    [{ gate: { tolerance: 'x' } }, /gate\.tolerance: .*expected number/],
    [
      { readinessTimeoutSeconds: -5 },
      /readinessTimeoutSeconds: .*>0|readinessTimeoutSeconds: .*positive|readinessTimeoutSeconds: Too small/,
    ],
    [{ training: { epochs: 3, epochz: 4 } }, /training: .*Unrecognized key.*training\.epochz/],
    [{ surprise: true }, /\(input\): .*Unrecognized key.*surprise/],
    // upper bounds of sizes (issue 24, item 13)
    [{ data: { mode: 'generate', users: 50_000_000 } }, /data\.users: .*1000000/],
    [{ data: { mode: 'generate', products: 16_777_216 } }, /data\.products: .*100000/],
    [{ training: { evalUsers: 1e12 } }, /training\.evalUsers: .*1000000/],
  ])('refuses the bad input %j at start, naming the field, before any activity', async (bad, message) => {
    const world = fakeWorld();
    const { result, described } = await h.run(world, bad);
    expect(result).toBeInstanceOf(WorkflowFailedError);
    const cause = (result as WorkflowFailedError).cause;
    expect(cause?.message).toMatch(/^invalid retrainAndDeploy input: /);
    expect(cause?.message).toMatch(message);
    expect((cause as { nonRetryable?: boolean }).nonRetryable).toBe(true);
    expect(described.status.name).toBe('FAILED');
    expect(world.calls).toEqual([]);
  });
});
