/**
 * The partitions one evaluator owns: each partition's join, loaded from its
 * checkpoint in MinIO when first seen, fed from the three topics' batches
 * in offset order (seeking each topic to the checkpoint's offset: MinIO,
 * not Kafka's committed offsets, says where to resume), and checkpointed —
 * offsets, state and figures under one conditional head write, the state's
 * changed chunks before it (./partition-checkpoint.ts).
 * A lost write means another evaluator owns the partition: it is dropped
 * and re-read from MinIO if its records come here again.
 */
import type { Consumer, EachBatchPayload, KafkaMessage } from 'kafkajs';
import { errorText, type Log } from '../process/json-log';
import type { OnlineStore } from '../store/online-figures';
import type { EvaluatorMetrics } from './metrics';
import { TOPIC_ROLES, type JoinRules, type PartitionJoin, type TopicRole } from './join-state';
import { commitCheckpoint, loadPartition, prepareCheckpoint, type PartitionState } from './partition-checkpoint';
import { decodeBasket, decodeServed, decodeShadowAnswers, type RecordPlace } from './records';

interface Owned extends PartitionState {
  dirty: boolean;
  soughtTo: Partial<Record<TopicRole, bigint>>;
  /** the offsets of the checkpoint it was loaded from or last wrote (what a restart resumes from) */
  saved: Record<TopicRole, bigint>;
  /** epoch ms (wall clock) of the last record fed, or of its load (the idle advance's clock) */
  recordAt: number;
}

/** The durable progress of an assigned partition, for the stall rule (./health.ts). */
export interface PartitionDurability {
  /** epoch ms of its last checkpoint written, or of its assignment */
  progressAt: number;
  /** the last checkpoint write's error, while the latest one failed */
  failing?: string;
}

export interface PartitionsDeps {
  consumer: Consumer;
  store: OnlineStore;
  topics: Record<TopicRole, string>;
  /** the topics' partition count (co-partitioned, checked at start): a shadow batch's entries must be customers of its partition */
  partitions: number;
  rules: JoinRules;
  metrics: EvaluatorMetrics;
  log: Log;
}

/**
 * Feeds one record to the join (a shadow batch: its entries in array
 * order); an undecodable record or batch entry is counted and logged with
 * its offset, never fatal.
 */
function feed(join: PartitionJoin, role: TopicRole, message: KafkaMessage, place: RecordPlace, log: Log): void {
  const value = message.value ?? Buffer.alloc(0);
  try {
    if (role === 'results') join.served(decodeServed(value));
    else if (role === 'purchases') join.purchase(decodeBasket(value));
    else {
      const { answers, invalid } = decodeShadowAnswers(value, place);
      for (const a of answers) join.shadow(a);
      for (let i = 0; i < invalid.length; i++) join.invalid(role);
      if (invalid.length > 0) log('warn', 'invalid shadow batch entries skipped', { ...place, skipped: invalid.length, first: invalid[0] });
    }
  } catch (err) {
    join.invalid(role);
    log('warn', 'invalid record skipped', { role, ...place, error: errorText(err) });
  }
}

export class EvaluatorPartitions {
  private readonly owned = new Map<number, Owned>();
  private readonly loading = new Map<number, Promise<Owned>>();
  private readonly roleOf: Map<string, TopicRole>;
  private writing: Promise<void> = Promise.resolve();
  private readonly durability = new Map<number, PartitionDurability>();
  private assignedAt = Date.now();

  constructor(private readonly deps: PartitionsDeps) {
    this.roleOf = new Map(TOPIC_ROLES.map((r) => [deps.topics[r], r]));
  }

  joins(): PartitionJoin[] {
    return [...this.owned.values()].map((o) => o.join);
  }

  /** The next offset to process of a loaded partition (for the lag, ./lag.ts); undefined while it is not loaded. */
  position(role: TopicRole, partition: number): bigint | undefined {
    return this.owned.get(partition)?.next[role];
  }

  /** The offsets of a loaded partition's last checkpoint (for the stall rule); undefined while it is not loaded. */
  saved(role: TopicRole, partition: number): bigint | undefined {
    return this.owned.get(partition)?.saved[role];
  }

  /** When a partition last progressed durably (its assignment, if never since), and its failing checkpoint write. */
  progress(partition: number): PartitionDurability {
    return this.durability.get(partition) ?? { progressAt: this.assignedAt };
  }

  /** A partition seen with nothing behind: it waits for nothing, its stall clock restarts. */
  caughtUp(partition: number): void {
    this.durability.set(partition, { ...this.progress(partition), progressAt: Date.now() });
  }

  /** Forgets every partition (a rebalance): each is re-read from its checkpoint when its records come again. */
  reset(): void {
    this.owned.clear();
    this.loading.clear();
    this.durability.clear();
    this.assignedAt = Date.now();
  }

  private async load(partition: number): Promise<Owned> {
    const state = await loadPartition(this.deps.store, this.deps.topics, this.deps.rules, partition);
    const owned: Owned = { ...state, dirty: false, soughtTo: {}, saved: { ...state.next }, recordAt: Date.now() };
    const c = state.etag !== null;
    this.owned.set(partition, owned);
    const from = c ? Object.fromEntries(TOPIC_ROLES.map((r) => [r, state.next[r].toString()])) : 'start';
    this.deps.log('info', 'partition loaded', { partition, from, checkpoint: c, chunks: state.chunks.length });
    return owned;
  }

  private ensure(partition: number): Promise<Owned> | Owned {
    const o = this.owned.get(partition);
    if (o) return o;
    let l = this.loading.get(partition);
    if (!l) {
      l = this.load(partition).finally(() => this.loading.delete(partition));
      this.loading.set(partition, l);
    }
    return l;
  }

  private seek(o: Owned, role: TopicRole): void {
    o.soughtTo[role] = o.next[role];
    this.deps.consumer.seek({ topic: this.deps.topics[role], partition: o.partition, offset: o.next[role].toString() });
  }

  async eachBatch({ batch, isRunning, isStale, resolveOffset, heartbeat }: EachBatchPayload): Promise<void> {
    const role = this.roleOf.get(batch.topic);
    if (!role || batch.messages.length === 0) return;
    const o = await this.ensure(batch.partition);
    if (!isRunning() || isStale() || this.owned.get(batch.partition) !== o) return;
    const first = BigInt(batch.messages[0].offset);
    const next = o.next[role];
    // ahead of the checkpoint (a position kept over a rebalance) or far behind it: seek to it once
    if ((first > next && o.soughtTo[role] !== next) || next - first > BigInt(batch.messages.length)) return this.seek(o, role);
    if (first > next)
      this.deps.log('warn', 'gap in the log (records deleted before they were read)', {
        topic: batch.topic,
        partition: batch.partition,
        from: next.toString(),
        to: first.toString(),
      });
    o.soughtTo[role] = undefined;
    // synchronous from here: a checkpoint never sees half a batch
    const messages = batch.messages;
    let i = 0; // offsets ascend: skip those read before, then no BigInt per record
    while (i < messages.length && BigInt(messages[i].offset) < o.next[role]) i++;
    const { partitions, log } = this.deps;
    for (let k = i; k < messages.length; k++) {
      feed(o.join, role, messages[k], { partition: batch.partition, partitions, offset: messages[k].offset }, log);
    }
    if (i < messages.length) {
      o.next[role] = BigInt(messages[messages.length - 1].offset) + 1n;
      o.dirty = true;
      o.recordAt = Date.now();
    }
    // the fetch position moves on (Kafka's committed offsets follow the checkpoints only)
    resolveOffset(batch.lastOffset());
    await heartbeat();
  }

  /**
   * The idle advance of a loaded partition (docs/design.md, "Quality out",
   * idle partitions), for the caller that saw its three topics caught up:
   * with no record for `idleMs` of wall clock and a purchase waiting, its
   * marks move past its newest event time (join-state.ts). True if it did.
   */
  idle(partition: number, idleMs: number): boolean {
    const o = this.owned.get(partition);
    if (!o || idleMs <= 0 || Date.now() - o.recordAt < idleMs) return false;
    const waiting = o.join.sizes().pending;
    const mark = o.join.idleAdvance();
    if (mark === undefined) return false;
    o.dirty = true;
    this.deps.log('info', 'partition idle: marks advanced past its newest event time', {
      partition,
      mark: new Date(mark).toISOString(),
      waiting,
    });
    return true;
  }

  /** Checkpoints every changed partition (one round at a time). */
  checkpoint(): Promise<void> {
    this.writing = this.writing.then(async () => {
      for (const o of [...this.owned.values()]) if (o.dirty) await this.write(o);
    });
    return this.writing;
  }

  private async write(o: Owned): Promise<void> {
    const prepared = prepareCheckpoint(this.deps.store, this.deps.topics, o);
    o.dirty = false; // built synchronously: later records make it dirty again
    try {
      const outcome = await commitCheckpoint(this.deps.store, o, prepared);
      if (!outcome.written) {
        this.deps.metrics.conflicts.inc();
        this.deps.log('warn', 'checkpoint lost to another evaluator: partition re-read from MinIO', { partition: o.partition });
        if (this.owned.get(o.partition) === o) this.owned.delete(o.partition);
        return;
      }
      this.durability.set(o.partition, { progressAt: Date.now() });
      for (const r of TOPIC_ROLES) o.saved[r] = BigInt(prepared.head.offsets[r]);
      this.deps.metrics.checkpoints.inc();
      await outcome.garbage.catch((err: unknown) =>
        this.deps.log('warn', 'old state chunks not removed (the next owner sweeps them)', {
          partition: o.partition,
          error: errorText(err),
        }),
      );
      const offsets = TOPIC_ROLES.map((r) => ({ topic: this.deps.topics[r], partition: o.partition, offset: prepared.head.offsets[r] }));
      await this.deps.consumer.commitOffsets(offsets).catch(() => undefined); // for lag tools only: MinIO says where to resume
    } catch (err) {
      o.dirty = true;
      this.durability.set(o.partition, { ...this.progress(o.partition), failing: errorText(err) });
      this.deps.metrics.checkpointFailures.inc();
      this.deps.log('warn', 'checkpoint failed (retried)', { partition: o.partition, error: errorText(err) });
    }
  }
}
