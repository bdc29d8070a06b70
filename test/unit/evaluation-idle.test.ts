/**
 * The join's idle advance (src/evaluation/join-state.ts; docs/design.md,
 * "Quality out", idle partitions) and the stall rule of the consumer
 * processes' /healthz (src/process/partition-progress.ts), offline. The
 * real-stack versions are test/evaluation/idle.test.ts and health.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { PartitionJoin, type JoinRules } from '../../src/evaluation/join-state';
import { stallProblems } from '../../src/process/partition-progress';

const RULES: JoinRules = { windowMs: 60_000, graceMs: 10_000, repeatHorizonMs: 86_400_000 };
const served = (requestId: string, user: number, eventTime: number) => ({ requestId, user, eventTime, slot: 's', version: 1, top: [7] });
const bought = (id: string, user: number, eventTime: number) => ({ id, user, eventTime, products: [7] });

/** A request and its purchase within the grace: the purchase waits for the results' mark. */
function waitingJoin(): PartitionJoin {
  const j = new PartitionJoin(RULES);
  j.served(served('r1', 1, 100_000));
  j.purchase(bought('p1', 1, 101_000));
  return j;
}

describe('the idle advance', () => {
  it('closes the waiting purchases at just past the newest event time; later records before it are late', () => {
    const j = waitingJoin();
    expect(j.sizes().pending).toBe(1);
    expect(j.idleAdvance()).toBe(101_001);
    expect(j.sizes().pending).toBe(0);
    expect(j.purchases).toEqual({ attributed: 1, unattributed: 0 });
    expect(j.figures['s/1']).toMatchObject({ followed: 1, hits: 1 });
    j.served(served('r2', 1, 100_500)); // within the grace of the results' front, before the advance's mark
    j.purchase(bought('p2', 1, 101_000));
    expect([j.records.results.late, j.records.purchases.late]).toEqual([1, 1]);
    j.purchase(bought('p3', 1, 101_001)); // at the mark: taken, waits as before
    expect(j.sizes().pending).toBe(1);
    expect(j.summary().idle).toEqual({ mark: 101_001, advances: 1 });
  });

  it('does nothing without a waiting purchase (the head keeps its old form)', () => {
    const j = new PartitionJoin(RULES);
    j.served(served('r1', 1, 100_000));
    expect(j.idleAdvance()).toBeUndefined();
    expect('idle' in j.summary()).toBe(false);
    j.served(served('r2', 1, 95_000)); // within the grace: taken
    expect(j.records.results).toMatchObject({ taken: 2, late: 0 });
  });

  it('survives a checkpoint (the head holds it); a head without it restores no advance', () => {
    const j = waitingJoin();
    j.idleAdvance();
    const head = JSON.parse(JSON.stringify(j.summary())) as ReturnType<PartitionJoin['summary']>;
    const old = JSON.parse(JSON.stringify(head)) as typeof head;
    delete old.idle; // a head written before idle advances existed
    const restored = PartitionJoin.restoreParts(RULES, head, []);
    restored.purchase(bought('p2', 1, 100_900));
    expect(restored.records.purchases.late).toBe(1);
    expect(head.idle).toEqual({ mark: 101_001, advances: 1 });
    const before = PartitionJoin.restoreParts(RULES, old, []);
    before.purchase(bought('p2', 1, 100_900));
    expect(before.records.purchases).toMatchObject({ taken: 2, late: 0 });
  });
});

describe('the stall rule', () => {
  const now = 1_000_000;
  it('reports a partition with records behind and no progress for the stall time, never an idle one', () => {
    const standings = [
      { partition: 0, behind: 0n, progressAt: 0 }, // idle for long: fine
      { partition: 1, behind: 5n, progressAt: now - 500 }, // behind, but progressing
      { partition: 2, behind: 7n, progressAt: now - 2_000, failing: 'S3 said no' },
    ];
    expect(stallProblems(standings, 1_000, 'checkpoint written', now)).toEqual([
      'partition 2: 7 records behind and no checkpoint written for 2 s: S3 said no',
    ]);
  });
});
