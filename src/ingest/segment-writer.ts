/**
 * The data publisher's exactly-once core (docs/design.md, "Purchases in"):
 * batches of the purchases topic become segments in MinIO. MinIO is the
 * source of truth for where a partition resumes; a segment is created only
 * if absent, so of two writers resuming at the same offset one wins and
 * the other re-reads the chain and seeks past it. Kafka's committed offset
 * only shortens the re-read after a restart (it is never ahead of the chain).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Consumer, EachBatchPayload, Message, Producer } from 'kafkajs';
import type { PurchasesConfig } from '../config';
import { PartitionProgress } from '../serving/model-server/partition-progress';
import { writeSegment, type SegmentStore } from '../store/segments';
import type { Log } from './log';
import { errorText } from './log';
import type { PublisherMetrics } from './metrics';
import { loadPartitionState, type PartitionState } from './partition-state';
import { IntakeTally, RecordIntake, type BufferBound } from './record-intake';

export type FlushResult = 'empty' | 'written' | 'lost' | 'failed';

/** Pause before a batch is fetched again when the partition's segments cannot be read. */
const STATE_RETRY_MS = 1_000;

/** Most bytes of dead letters in one produce call (the broker's message limit is 1 MB). */
const MAX_LETTER_BYTES = 512 * 1024;

export interface SegmentWriterDeps {
  consumer: Consumer;
  producer: Producer;
  store: SegmentStore;
  purchases: PurchasesConfig;
  metrics: PublisherMetrics;
  progress: PartitionProgress;
  log: Log;
  now?: () => number;
}

export class SegmentWriter {
  private readonly states = new Map<number, PartitionState>();
  private readonly locks = new Map<number, Promise<unknown>>();
  private readonly now: () => number;
  private readonly intake: RecordIntake;

  constructor(private readonly deps: SegmentWriterDeps) {
    this.now = deps.now ?? Date.now;
    this.intake = new RecordIntake(deps.store.topic, deps.purchases.limits, deps.log);
  }

  /** A rebalance: every partition is re-read from MinIO when next seen; buffers are dropped (re-consumed, never lost). */
  reset(): void {
    this.states.clear();
    this.updateBuffered();
  }

  partitions(): PartitionState[] {
    return [...this.states.values()];
  }

  /** Runs `fn` after every earlier operation on `partition` (batches, timed flushes). */
  private withLock<T>(partition: number, fn: () => Promise<T>): Promise<T> {
    const run = (this.locks.get(partition) ?? Promise.resolve()).then(fn, fn);
    this.locks.set(
      partition,
      run.catch(() => undefined),
    );
    return run;
  }

  private async stateOf(partition: number): Promise<PartitionState> {
    let state = this.states.get(partition);
    if (!state) {
      state = await loadPartitionState(this.deps.store, partition, this.deps.purchases.dedupWindow);
      this.states.set(partition, state);
      this.deps.log('info', 'partition resumes at the end of its segments', { partition, offset: state.next.toString() });
    }
    return state;
  }

  /**
   * The partition's state, or undefined after a pause when MinIO cannot be
   * read: the batch stays unresolved (fetched again), the failure is
   * recorded for /healthz, and the consumer keeps running.
   */
  private async stateOrBackOff(partition: number, payload: EachBatchPayload): Promise<PartitionState | undefined> {
    try {
      return await this.stateOf(partition);
    } catch (err) {
      const reason = `reading its segments failed: ${errorText(err)}`;
      this.deps.progress.failed(String(partition), reason);
      this.deps.log('warn', 'partition waits for MinIO', { partition, error: reason });
      await sleep(STATE_RETRY_MS);
      await payload.heartbeat();
      return undefined;
    }
  }

  private seek(state: PartitionState): void {
    state.soughtTo = state.next;
    this.deps.consumer.seek({ topic: this.deps.store.topic, partition: state.partition, offset: state.next.toString() });
  }

  eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    if (batch.messages.length === 0) return Promise.resolve();
    return this.withLock(batch.partition, async () => {
      if (!payload.isRunning() || payload.isStale()) return;
      const state = await this.stateOrBackOff(batch.partition, payload);
      if (!state) return;
      state.highWatermark = BigInt(batch.highWatermark);
      const first = BigInt(batch.messages[0].offset);
      // ahead of the chain (a position kept over a rebalance): seek back once; still ahead after that is a gap in the log
      if (first > state.next && state.soughtTo !== state.next) return this.seek(state);
      // far behind (commits lag the chain): seek instead of reading what is already in segments
      if (state.next - first > BigInt(batch.messages.length)) return this.seek(state);
      state.soughtTo = undefined;
      await this.consume(state, payload);
    });
  }

  private async consume(state: PartitionState, payload: EachBatchPayload): Promise<void> {
    const { messages } = payload.batch;
    const tally = new IntakeTally();
    const now = this.now();
    let i = 0;
    while (i < messages.length) {
      // while writes fail, the timer retries (not every record); at twice the limits the partition pauses
      const bound = this.bound(state.failing ? 2 : 1);
      i = this.intake.take(state, messages, i, bound, now, tally);
      // kafkajs' resolveOffset parses the offset each call: once before a flush or pause and once at the end
      payload.resolveOffset(messages[i - 1].offset);
      tally.report(this.deps.metrics);
      const b = state.buffer;
      if (b === undefined || (b.purchases < bound.purchases && b.bytes < bound.bytes)) break;
      if (state.failing) return this.pause(state);
      if ((await this.flush(state)) === 'lost') return;
    }
    this.updateBuffered();
    await payload.heartbeat();
  }

  private bound(factor: number): BufferBound {
    const s = this.deps.purchases.segment;
    return { purchases: s.maxPurchases * factor, bytes: s.maxBytes * factor };
  }

  private pause(state: PartitionState): void {
    state.paused = true;
    this.deps.consumer.pause([{ topic: this.deps.store.topic, partitions: [state.partition] }]);
    this.deps.log('warn', 'partition paused: segments cannot be written', { partition: state.partition, reason: state.failing });
  }

  /** Flushes buffers older than the age limit and retries failed ones; called on a timer. */
  async flushAged(): Promise<void> {
    const maxAge = this.deps.purchases.segment.maxAgeMs;
    const due = this.partitions().filter((s) => s.buffer && (s.failing || this.now() - s.buffer.openedAt >= maxAge));
    await Promise.all(
      due.map((s) =>
        this.withLock(s.partition, async () => {
          // the state may have been replaced (rebalance, lost race) while waiting for the lock
          if (this.states.get(s.partition) === s) await this.flush(s);
        }),
      ),
    );
    this.updateBuffered();
  }

  /** Writes every buffer (a graceful stop). */
  async flushAll(): Promise<void> {
    await Promise.all(this.partitions().map((s) => this.withLock(s.partition, () => this.flush(s))));
  }

  /** Writes the buffer as the segment at its first offset: dead letters first (at least once), then the conditional create. */
  async flush(state: PartitionState): Promise<FlushResult> {
    const b = state.buffer;
    if (!b || b.last === undefined) return 'empty';
    const { store, metrics, log } = this.deps;
    const timer = metrics.segmentWrite.startTimer();
    try {
      await this.sendLetters(b.letters);
      b.letters.length = 0;
      const won = await writeSegment(store, state.partition, b.first, b.last, b.body());
      timer();
      if (!won) {
        metrics.conflicts.inc();
        log('warn', 'another writer created this segment first: re-reading the partition from MinIO', {
          partition: state.partition,
          first: b.first.toString(),
        });
        await this.resync(state);
        return 'lost';
      }
      this.written(state, b.last + 1n);
      return 'written';
    } catch (err) {
      metrics.flushFailures.inc();
      state.failing = errorText(err);
      this.deps.progress.failed(String(state.partition), state.failing);
      log('warn', 'writing a segment failed (retried)', { partition: state.partition, error: state.failing });
      return 'failed';
    }
  }

  private written(state: PartitionState, durable: bigint): void {
    const { consumer, store, metrics, progress, log } = this.deps;
    state.durable = durable;
    state.buffer = undefined;
    state.progressAt = this.now();
    state.failing = undefined;
    metrics.segments.inc();
    progress.advanced(String(state.partition));
    if (state.paused) {
      state.paused = false;
      consumer.resume([{ topic: store.topic, partitions: [state.partition] }]);
    }
    // the committed offset only saves re-reading after a restart: a failed commit (a rebalance) is harmless
    consumer
      .commitOffsets([{ topic: store.topic, partition: state.partition, offset: durable.toString() }])
      .catch((err: unknown) => log('info', 'offset commit skipped', { partition: state.partition, error: errorText(err) }));
  }

  private async resync(state: PartitionState): Promise<void> {
    // a rebalance meanwhile (reset) means the partition may not be ours any more: its next owner loads it
    if (this.states.get(state.partition) !== state) return;
    const fresh = await loadPartitionState(this.deps.store, state.partition, this.deps.purchases.dedupWindow);
    fresh.highWatermark = state.highWatermark;
    this.states.set(state.partition, fresh);
    this.seek(fresh);
  }

  private async sendLetters(letters: Message[]): Promise<void> {
    let chunk: Message[] = [];
    let bytes = 0;
    const send = async (): Promise<void> => {
      if (chunk.length) await this.deps.producer.send({ topic: this.deps.purchases.dlqTopic, acks: -1, messages: chunk });
      chunk = [];
      bytes = 0;
    };
    for (const letter of letters) {
      const size = (letter.value as Buffer).length + ((letter.key as Buffer | null)?.length ?? 0);
      if (bytes + size > MAX_LETTER_BYTES) await send();
      chunk.push(letter);
      bytes += size;
    }
    await send();
  }

  private updateBuffered(): void {
    let n = 0;
    for (const s of this.states.values()) {
      n += s.buffer?.purchases ?? 0;
      this.deps.metrics.lag.set({ partition: String(s.partition) }, Number(s.highWatermark - s.durable));
    }
    this.deps.metrics.buffered.set(n);
  }
}
