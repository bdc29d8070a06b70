/**
 * `online_evaluator_lag` on the real Kafka and MinIO: the consumer lag of
 * each assigned topic-partition (high watermark − next offset to process),
 * also while the evaluator makes no progress. An evaluator checkpoints a
 * first slice and stops; a second slice is produced while none runs; the
 * next evaluator starts with its MinIO connections held by a proxy (its
 * partitions' checkpoints cannot be read, so it processes nothing): the
 * gauge shows exactly the second slice per topic-partition, then ~0 once
 * MinIO answers and it has caught up. The gauge used to be set from the
 * fetched batches only: a stuck evaluator showed no lag at all.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { OnlineEvaluator } from '../../src/evaluation/evaluator';
import { TOPIC_ROLES } from '../../src/evaluation/join-state';
import { until } from '../helpers/processes';
import { heldEvaluators, sendByRole } from './held-evaluator';
import type { HoldingProxy } from './holding-proxy';
import { EvaluatorRig } from './rig';
import { seedTraffic } from './traffic';

/** The gauge's samples from the evaluator's own /metrics: `role/partition` → records behind. */
async function lagGauge(e: OnlineEvaluator): Promise<Record<string, number>> {
  const text = await (await fetch(`${e.url}/metrics`)).text();
  const lag: Record<string, number> = {};
  for (const m of text.matchAll(/^online_evaluator_lag\{topic="(\w+)",partition="(\d+)"\} (\d+)$/gm)) lag[`${m[1]}/${m[2]}`] = Number(m[3]);
  return lag;
}

let rig: EvaluatorRig | undefined;
let proxy: HoldingProxy | undefined;
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  proxy?.release(); // a failed run must not leave an evaluator waiting for MinIO in its close
  proxy = undefined;
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
  await rig?.cleanUp();
  rig = undefined;
});

describe('online evaluator: the consumer lag gauge', () => {
  it('shows the records produced while it was stopped, per topic-partition, while it cannot progress; ~0 once caught up', async () => {
    const r = (rig = new EvaluatorRig());
    await r.createTopics(2);
    const held = await heldEvaluators(r, cleanups);
    const p = (proxy = held.proxy);
    const start = held.start;

    const first = await start();
    await sendByRole(r, seedTraffic(40_001, 40_601));
    await r.untilCheckpointed(r.config.evaluator.groupId, 90_000);
    const caughtUp = (l: Record<string, number>) => Object.keys(l).length === 6 && Object.values(l).every((n) => n === 0);
    await until('lag 0 on all six topic-partitions', () => lagGauge(first), caughtUp, 30_000);
    await first.close();
    const before = await r.highWatermarks();

    await sendByRole(r, seedTraffic(40_601, 41_801)); // while no evaluator runs
    const after = await r.highWatermarks();
    const produced: Record<string, number> = {};
    for (const role of TOPIC_ROLES)
      for (const [part, high] of after[role]) produced[`${role}/${part}`] = Number(high - (before[role].get(part) ?? 0n));
    expect(Object.values(produced).every((n) => n > 0)).toBe(true);

    p.hold();
    const second = await start();
    const behind = await until(
      'the second slice in the gauge',
      () => lagGauge(second),
      (l) => Object.keys(l).length === 6,
      30_000,
    );
    expect(behind).toEqual(produced); // exactly the records past the checkpoint: nothing was processed
    await sleep(1_500); // several refreshes: still behind, not back to 0
    expect(await lagGauge(second)).toEqual(produced);

    p.release();
    await r.untilCheckpointed(r.config.evaluator.groupId, 90_000);
    const zero = await until('lag 0 after catching up', () => lagGauge(second), caughtUp, 30_000);
    expect(Object.keys(zero).sort()).toEqual(Object.keys(produced).sort());
  }, 240_000);
});
