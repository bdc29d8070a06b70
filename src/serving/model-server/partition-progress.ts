/**
 * Which request partitions are making no progress: a partition whose writes
 * or commits keep failing (a produce the broker rejects, a broker that is
 * gone) is retried by kafkajs for ever; this keeps the first failure since
 * its last progress, so /healthz can report it instead of answering 200.
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
