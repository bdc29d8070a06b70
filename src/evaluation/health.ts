/**
 * What the online evaluator does with the consumer lag it reads from the
 * brokers (./lag.ts), after each read (docs/design.md, "Quality out"):
 *
 *  - /healthz: the stall rule of every consumer process
 *    (src/process/partition-progress.ts): an assigned partition with records
 *    not in its checkpoint (high watermark − the last checkpoint's offsets,
 *    summed over the three topics) and no checkpoint written for
 *    EVALUATOR_STALL_MS is stalled — a load hanging on MinIO, a stuck
 *    consumer, checkpoints failing or hanging. A partition seen with nothing
 *    behind restarts its clock: an idle evaluator is healthy;
 *  - the idle advance: a loaded partition whose three topics are caught up
 *    (nothing behind its position) may close its waiting purchases
 *    (EvaluatorPartitions.idle).
 */
import { stallProblems } from '../process/partition-progress';
import type { ConsumerLag } from './lag';
import type { EvaluatorPartitions } from './partitions';

export interface EvaluatorHealth {
  ok: boolean;
  problems: string[];
}

export interface LagWatchDeps {
  lag: ConsumerLag;
  owned: EvaluatorPartitions;
  stallMs: number;
  idleMs: number;
}

/** The records of `partition` the broker has beyond its last checkpoint (undefined before the lag was read). */
const notCheckpointed = (d: LagWatchDeps, partition: number) => d.lag.behind(partition, (role) => d.owned.saved(role, partition));

/** Reads the lag, then restarts the stall clock of the partitions with nothing behind and gives the caught-up ones their idle advance; true if one advanced. */
export async function watchLag(d: LagWatchDeps): Promise<boolean> {
  await d.lag.refresh();
  let advanced = false;
  for (const partition of d.lag.partitions()) {
    if (notCheckpointed(d, partition) === 0n) d.owned.caughtUp(partition);
    if (d.lag.behind(partition, (role) => d.owned.position(role, partition)) === 0n && d.owned.idle(partition, d.idleMs)) advanced = true;
  }
  return advanced;
}

/** The evaluator's health: its consumer running, no partition stalled. */
export function healthOf(d: LagWatchDeps, crashed: string | undefined): EvaluatorHealth {
  const problems = crashed ? [`consumer stopped: ${crashed}`] : [];
  const standings = d.lag.partitions().map((partition) => ({
    partition,
    behind: notCheckpointed(d, partition) ?? 0n,
    ...d.owned.progress(partition),
  }));
  problems.push(...stallProblems(standings, d.stallMs, 'checkpoint written'));
  return { ok: problems.length === 0, problems };
}
