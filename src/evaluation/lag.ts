/**
 * The evaluator's consumer lag, per topic-partition this member is assigned:
 * the partition's high watermark, read from the brokers on a timer, minus
 * the next offset to process — the loaded partition's position, or, before
 * the partition is loaded (just assigned, its checkpoint still being read),
 * the offset the group committed with its last checkpoint (none: the log
 * start, as the consumer reads from the beginning).
 *
 * Why not from the batches: a gauge set in eachBatch moves only when a fetch
 * delivers records, so an evaluator that stops making progress (a partition
 * load hanging on MinIO, a paused or stuck consumer) keeps showing the lag of
 * its last batch — 0 once it had caught up — however far the topics run
 * ahead, and a partition not fetched yet shows nothing at all.
 */
import type { Admin } from 'kafkajs';
import type { Gauge } from 'prom-client';
import { errorText, type Log } from '../process/json-log';
import { TOPIC_ROLES, type TopicRole } from './join-state';

export interface LagDeps {
  admin: Admin;
  groupId: string;
  topics: Record<TopicRole, string>;
  gauge: Gauge<'topic' | 'partition'>;
  /** the next offset to process of a loaded partition, undefined while it is not loaded */
  position(role: TopicRole, partition: number): bigint | undefined;
  log: Log;
}

/** Offsets of one topic's partitions: high and low watermarks, and the group's committed offset (-1: none). */
type Marks = Map<number, { high: bigint; low: bigint; committed?: bigint }>;

export class ConsumerLag {
  private assigned: Record<string, number[]> = {};
  /** each role's marks as last read (for the stall rule and the idle advance, ./health.ts) */
  private read: Partial<Record<TopicRole, Marks>> = {};
  private running?: Promise<void>;
  private failing = false;

  constructor(private readonly deps: LagDeps) {}

  /** The member's assignment after a rebalance (kafkajs' GROUP_JOIN memberAssignment); partitions no longer ours disappear. */
  assign(assignment: Record<string, number[]>): void {
    this.assigned = assignment;
    this.read = {};
    this.deps.gauge.reset();
  }

  /** The assigned partitions (the same numbers on the three topics: co-partitioned). */
  partitions(): number[] {
    return [...new Set(TOPIC_ROLES.flatMap((role) => this.assigned[this.deps.topics[role]] ?? []))];
  }

  /**
   * Records of `partition`'s three topics at the last read past `offsetOf(role)`
   * (undefined: the offset the group committed, else the log start): the
   * sum over the topics, undefined until all three were read.
   */
  behind(partition: number, offsetOf: (role: TopicRole) => bigint | undefined): bigint | undefined {
    let sum = 0n;
    for (const role of TOPIC_ROLES) {
      const m = this.read[role]?.get(partition);
      if (!m) return undefined;
      sum += behindOf(m, offsetOf(role));
    }
    return sum;
  }

  /** Reads the watermarks and sets the gauge; one refresh at a time, a failed one logged once and tried again next time. */
  refresh(): Promise<void> {
    this.running ??= this.update()
      .then(() => {
        this.failing = false;
      })
      .catch((err: unknown) => {
        if (!this.failing) this.deps.log('warn', 'consumer lag not read (retried)', { error: errorText(err) });
        this.failing = true;
      })
      .finally(() => (this.running = undefined));
    return this.running;
  }

  /** Resolves when no refresh is in flight (before the admin client is disconnected). */
  idle(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  private async marks(topic: string, needCommitted: boolean): Promise<Marks> {
    const { admin, groupId } = this.deps;
    const marks: Marks = new Map(
      (await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, { high: BigInt(o.high), low: BigInt(o.low) }]),
    );
    if (needCommitted)
      for (const t of await admin.fetchOffsets({ groupId, topics: [topic] }))
        for (const p of t.partitions) {
          const m = marks.get(p.partition);
          if (m) m.committed = BigInt(p.offset);
        }
    return marks;
  }

  private async update(): Promise<void> {
    const assigned = this.assigned;
    for (const role of TOPIC_ROLES) {
      const topic = this.deps.topics[role];
      const partitions = assigned[topic] ?? [];
      if (partitions.length === 0) continue;
      const needCommitted = partitions.some((p) => this.deps.position(role, p) === undefined);
      const marks = await this.marks(topic, needCommitted);
      if (this.assigned !== assigned) return; // a rebalance meanwhile: the next refresh reads the new assignment
      this.read[role] = marks;
      for (const partition of partitions) {
        const m = marks.get(partition);
        if (m) this.deps.gauge.set({ topic: role, partition: String(partition) }, Number(behindOf(m, this.deps.position(role, partition))));
      }
    }
  }
}

/** Records past `at` (undefined: the committed offset, else the log start); those removed by retention before they were read are gone, not behind. */
function behindOf(m: { high: bigint; low: bigint; committed?: bigint }, at: bigint | undefined): bigint {
  const from = at ?? (m.committed !== undefined && m.committed >= 0n ? m.committed : m.low);
  const behind = m.high - (from > m.low ? from : m.low);
  return behind > 0n ? behind : 0n;
}
