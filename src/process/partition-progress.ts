/**
 * Which partitions of a consumer process make no progress, for its
 * /healthz (model server, data publisher, online evaluator):
 *
 *  - PartitionProgress: a partition whose writes or commits keep failing (a
 *    produce the broker rejects, a broker that is gone) is retried by
 *    kafkajs for ever; this keeps the first failure since its last progress,
 *    so /healthz can report it instead of answering 200;
 *  - stallProblems: a partition with records not yet made durable (a
 *    segment, a checkpoint) and no durable progress for the stall time. One
 *    with nothing behind is idle, never stalled.
 */

export interface Stall {
  partition: string;
  /** epoch ms of the first failure since the last progress */
  since: number;
  failures: number;
  reason: string;
}

export class PartitionProgress {
  private readonly stalls = new Map<string, Stall>();

  constructor(private readonly now: () => number = Date.now) {}

  advanced(partition: string): void {
    this.stalls.delete(partition);
  }

  failed(partition: string, reason: string): void {
    const s = this.stalls.get(partition);
    if (s) {
      s.failures++;
      s.reason = reason;
    } else this.stalls.set(partition, { partition, since: this.now(), failures: 1, reason });
  }

  /** partitions without progress for at least `afterMs` */
  stalled(afterMs: number): Stall[] {
    const t = this.now();
    return [...this.stalls.values()].filter((s) => t - s.since >= afterMs);
  }
}

/** A partition as the stall rule sees it. */
export interface PartitionStanding {
  partition: number;
  /** records the broker has that are not durable yet (not in a segment, not in a checkpoint) */
  behind: bigint;
  /** epoch ms of its last durable progress (or of whatever restarts its clock: its load, its being seen with nothing behind) */
  progressAt: number;
  /** the last attempt's error, while the latest attempt failed */
  failing?: string;
}

/** One problem per partition with records behind and no progress for `stallAfterMs`; `progress` names what progress is ("segment written"). */
export function stallProblems(standings: Iterable<PartitionStanding>, stallAfterMs: number, progress: string, now = Date.now()): string[] {
  const problems: string[] = [];
  for (const s of standings)
    if (s.behind > 0n && now - s.progressAt >= stallAfterMs)
      problems.push(
        `partition ${s.partition}: ${s.behind} records behind and no ${progress} for ${Math.round((now - s.progressAt) / 1000)} s${s.failing ? `: ${s.failing}` : ''}`,
      );
  return problems;
}
