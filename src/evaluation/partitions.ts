/**
 * The partitions one evaluator owns: each partition's join, loaded from its
 * checkpoint in MinIO when first seen, fed from the three topics' batches
 * in offset order (seeking each topic to the checkpoint's offset: MinIO,
 * not Kafka's committed offsets, says where to resume), and checkpointed —
 * offsets, state and figures in one conditional write (src/store/online-figures.ts).
 * A lost write means another evaluator owns the partition: it is dropped
 * and re-read from MinIO if its records come here again.
 */
import type { Consumer, EachBatchPayload, KafkaMessage } from 'kafkajs';
import { errorText, type Log } from '../process/json-log';
import {
  CHECKPOINT_SCHEMA,
  ChunkGone,
  listChunks,
  newChunkKey,
  readCheckpoint,
  readChunks,
  removeChunks,
  writeCheckpoint,
  writeChunks,
  type Checkpoint,
  type OnlineStore,
} from '../store/online-figures';
import type { EvaluatorMetrics } from './metrics';
import { PartitionJoin, TOPIC_ROLES, type JoinRules, type TopicRole } from './join-state';
import { decodeBasket, decodeServed, decodeShadowAnswer } from './records';
import { planChunks, type ChunkRef } from './state-chunks';

interface Owned {
  partition: number;
  join: PartitionJoin;
  /** the next offset to read of each topic's partition */
  next: Record<TopicRole, bigint>;
  etag: string | null;
  /** the state chunks its head lists */
  chunks: ChunkRef[];
  /** chunks no head listed when it was loaded: removed once its own first head is written (then no other writer can list them) */
  orphans: string[];
  dirty: boolean;
  soughtTo: Partial<Record<TopicRole, bigint>>;
  highWatermark: Partial<Record<TopicRole, bigint>>;
}

export interface PartitionsDeps {
  consumer: Consumer;
  store: OnlineStore;
  topics: Record<TopicRole, string>;
  rules: JoinRules;
  metrics: EvaluatorMetrics;
  log: Log;
}

/** Feeds one record to the join; an undecodable one is counted, never fatal. */
function feed(join: PartitionJoin, role: TopicRole, message: KafkaMessage): void {
  const value = message.value ?? Buffer.alloc(0);
  try {
    if (role === 'results') join.served(decodeServed(value));
    else if (role === 'shadows') join.shadow(decodeShadowAnswer(value));
    else join.purchase(decodeBasket(value));
  } catch {
    join.invalid(role);
  }
}

export class EvaluatorPartitions {
  private readonly owned = new Map<number, Owned>();
  private readonly loading = new Map<number, Promise<Owned>>();
  private readonly roleOf: Map<string, TopicRole>;
  private writing: Promise<void> = Promise.resolve();
  /** since when checkpoint writes have been failing (undefined: the last one went through) */
  failing?: { since: number; error: string };

  constructor(private readonly deps: PartitionsDeps) {
    this.roleOf = new Map(TOPIC_ROLES.map((r) => [deps.topics[r], r]));
  }

  joins(): PartitionJoin[] {
    return [...this.owned.values()].map((o) => o.join);
  }

  /** Forgets every partition (a rebalance): each is re-read from its checkpoint when its records come again. */
  reset(): void {
    this.owned.clear();
    this.loading.clear();
  }

  private async load(partition: number): Promise<Owned> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.loadOnce(partition);
      } catch (err) {
        // a newer head replaced a chunk while this one was read: read the newer head
        if (!(err instanceof ChunkGone) || attempt >= 5) throw err;
      }
    }
  }

  private async loadOnce(partition: number): Promise<Owned> {
    const store = this.deps.store;
    const stored = await readCheckpoint(store, partition);
    const c = stored?.checkpoint;
    const mismatch = c && TOPIC_ROLES.find((r) => c.topics[r] !== this.deps.topics[r]);
    if (mismatch) {
      // its offsets are another topic's: resuming from them would skip or repeat records
      throw new Error(
        `checkpoint of partition ${partition} (group ${this.deps.store.group}) is for ${mismatch} topic ${c.topics[mismatch]}, not ${this.deps.topics[mismatch]}: use another EVALUATOR_GROUP for other topics`,
      );
    }
    let join = new PartitionJoin(this.deps.rules);
    // a schema 1 checkpoint: every entry counts as changed, so the next checkpoint writes them all into chunks
    if (stored?.wholeState) join = PartitionJoin.restore(this.deps.rules, stored.wholeState);
    else if (c) {
      join = PartitionJoin.restoreParts(this.deps.rules, c.state, await readChunks(store, c));
      join.takeTouched(); // its chunks hold it
    }
    const listed = new Set((c?.chunks ?? []).map((k) => k.key));
    const orphans = (await listChunks(store, partition)).filter((k) => !listed.has(k));
    const next = { results: 0n, shadows: 0n, purchases: 0n };
    for (const role of TOPIC_ROLES) if (c) next[role] = BigInt(c.offsets[role]);
    const etag = stored?.etag ?? null;
    const chunks = c?.chunks ?? [];
    const owned: Owned = { partition, join, next, etag, chunks, orphans, dirty: false, soughtTo: {}, highWatermark: {} };
    this.owned.set(partition, owned);
    this.deps.log('info', 'partition loaded', { partition, from: c ? c.offsets : 'start', checkpoint: Boolean(c) });
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
    for (const m of batch.messages) {
      const offset = BigInt(m.offset);
      if (offset < o.next[role]) continue;
      feed(o.join, role, m);
      o.next[role] = offset + 1n;
      o.dirty = true;
    }
    // the fetch position moves on (Kafka's committed offsets follow the checkpoints only)
    resolveOffset(batch.lastOffset());
    o.highWatermark[role] = BigInt(batch.highWatermark);
    this.deps.metrics.lag.set({ topic: role, partition: String(o.partition) }, Number(BigInt(batch.highWatermark) - o.next[role]));
    await heartbeat();
  }

  /** Checkpoints every changed partition (one round at a time). */
  checkpoint(): Promise<void> {
    this.writing = this.writing.then(async () => {
      for (const o of [...this.owned.values()]) if (o.dirty) await this.write(o);
    });
    return this.writing;
  }

  private async write(o: Owned): Promise<void> {
    const store = this.deps.store;
    // synchronous up to the first await: chunks, summary and offsets are of one instant; later records make it dirty again
    const touched = o.join.takeTouched();
    const plan = planChunks(o.join, o.chunks, touched, () => newChunkKey(store, o.partition));
    const checkpoint: Checkpoint = {
      schema: CHECKPOINT_SCHEMA,
      partition: o.partition,
      topics: this.deps.topics,
      offsets: { results: o.next.results.toString(), shadows: o.next.shadows.toString(), purchases: o.next.purchases.toString() },
      state: structuredClone(o.join.summary()),
      chunks: plan.chunks,
      writtenAt: new Date().toISOString(),
    };
    o.dirty = false;
    const written = plan.bodies.map((b) => b.key);
    let headSent = false;
    try {
      await writeChunks(store, plan.bodies);
      headSent = true;
      const etag = await writeCheckpoint(store, checkpoint, o.etag);
      if (etag === undefined) {
        await removeChunks(store, written).catch(() => undefined); // no head lists them: this write was refused
        this.deps.metrics.conflicts.inc();
        this.deps.log('warn', 'checkpoint lost to another evaluator: partition re-read from MinIO', { partition: o.partition });
        if (this.owned.get(o.partition) === o) this.owned.delete(o.partition);
        return;
      }
      o.etag = etag;
      o.chunks = plan.chunks;
      // garbage now: the head replaced lists them, and no other writer can write a head over this one's predecessor
      const garbage = [...plan.replaced, ...o.orphans.splice(0)];
      await removeChunks(store, garbage).catch((err: unknown) =>
        this.deps.log('warn', 'old state chunks not removed (the next owner sweeps them)', { partition: o.partition, error: errorText(err) }),
      );
      this.failing = undefined;
      this.deps.metrics.checkpoints.inc();
      const offsets = TOPIC_ROLES.map((r) => ({ topic: this.deps.topics[r], partition: o.partition, offset: checkpoint.offsets[r] }));
      await this.deps.consumer.commitOffsets(offsets).catch(() => undefined); // for lag tools only: MinIO says where to resume
    } catch (err) {
      o.dirty = true;
      o.join.retouch(touched);
      // chunks written for a head never sent are listed by none; after a sent one (its fate unknown) they may be
      if (!headSent) await removeChunks(store, written).catch(() => undefined);
      this.failing = { since: this.failing?.since ?? Date.now(), error: errorText(err) };
      this.deps.metrics.checkpointFailures.inc();
      this.deps.log('warn', 'checkpoint failed (retried)', { partition: o.partition, error: errorText(err) });
    }
  }
}
