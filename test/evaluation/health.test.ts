/**
 * The online evaluator's /healthz on the real Kafka and MinIO (MinIO behind
 * a proxy the test holds): healthy while it is idle (caught up, no traffic,
 * longer than the stall time); unhealthy once a partition has records not
 * in its checkpoint and no checkpoint written for EVALUATOR_STALL_MS — an
 * evaluator started while MinIO does not answer (its partitions' loads
 * hang, nothing is processed), and a running one whose checkpoints cannot
 * be written (reported a stall time after the records came, not at once:
 * the clock of a partition seen caught up restarts); healthy again once
 * MinIO answers. /healthz used to report only
 * a dead consumer and checkpoint writes failing with an error: the first
 * evaluator, stuck loading, answered 200.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { OnlineEvaluator } from '../../src/evaluation/evaluator';
import { until } from '../helpers/processes';
import { heldEvaluators, sendByRole } from './held-evaluator';
import type { HoldingProxy } from './holding-proxy';
import { EvaluatorRig } from './rig';
import { seedTraffic } from './traffic';

const STALL_MS = 3_000;

let rig: EvaluatorRig | undefined;
let proxy: HoldingProxy | undefined;
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  proxy?.release(); // an evaluator waiting for MinIO must be able to close
  proxy = undefined;
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
  await rig?.cleanUp();
  rig = undefined;
});

async function healthz(e: OnlineEvaluator): Promise<{ status: number; problems: string[] }> {
  const res = await fetch(`${e.url}/healthz`);
  return { status: res.status, problems: ((await res.json()) as { problems: string[] }).problems };
}

describe('online evaluator: /healthz reports a stall', () => {
  it('healthy while idle; unhealthy while stuck loading or unable to checkpoint (MinIO held), healthy again after', async () => {
    const r = (rig = new EvaluatorRig({ EVALUATOR_STALL_MS: String(STALL_MS) }));
    await r.createTopics(2);
    const held = await heldEvaluators(r, cleanups);
    const p = (proxy = held.proxy);
    const start = held.start;
    const reaches = (status: number, ms: number) => (e: OnlineEvaluator, what: string) =>
      until(
        what,
        () => healthz(e),
        (h) => h.status === status,
        ms,
      );
    const healthy = reaches(200, 60_000);
    const stalled = reaches(503, 30_000);

    const first = await start();
    await sendByRole(r, seedTraffic(60_001, 60_301));
    await r.untilCheckpointed(r.config.evaluator.groupId, 90_000);
    await sleep(3 * STALL_MS); // idle: caught up, nothing comes, for longer than the stall time
    expect(await healthz(first)).toEqual({ status: 200, problems: [] });
    await first.close();

    await sendByRole(r, seedTraffic(60_301, 60_601)); // while no evaluator runs
    p.hold();
    const second = await start();
    const stuck = await stalled(second, '503 while the partitions cannot be loaded');
    expect(stuck.problems).toHaveLength(2);
    for (const problem of stuck.problems) expect(problem).toMatch(/^partition \d: \d+ records behind and no checkpoint written for \d+ s/);
    p.release();
    await r.untilCheckpointed(r.config.evaluator.groupId, 90_000);
    await healthy(second, '200 once loaded and checkpointed');

    await sleep(2 * STALL_MS); // quiet again, its last checkpoint long ago
    p.hold(); // MinIO gone while records come: processed, never checkpointed
    await sendByRole(r, seedTraffic(60_601, 60_901));
    const sentAt = Date.now();
    const unsaved = await stalled(second, '503 while checkpoints cannot be written');
    expect(unsaved.problems.join('\n')).toMatch(/records behind and no checkpoint written/);
    // the stall clock started when it was last seen caught up, not at its last checkpoint: the records had the stall time
    expect(Date.now() - sentAt).toBeGreaterThanOrEqual(STALL_MS / 2);
    p.release();
    await r.untilCheckpointed(r.config.evaluator.groupId, 90_000);
    await healthy(second, '200 once checkpointed again');
  }, 240_000);
});
