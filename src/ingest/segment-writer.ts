/**
 * The data publisher's exactly-once core (docs/design.md, "Purchases in"):
 * batches of the purchases topic become segments in MinIO. MinIO is the
 * source of truth for where a partition resumes; a segment is created only
 * if absent, so of two writers resuming at the same offset one wins and
 * the other re-reads the chain and seeks past it. Kafka's committed offset
 * only shortens the re-read after a restart (it is never ahead of the chain).
 *
 * A full buffer's segment is written behind: the partition's next batches
 * fill the next buffer meanwhile, and that one is written only once the
 * first is known to be in the chain (one write in flight per partition; a
 * lost write drops both buffers and re-reads the chain; a failed one takes
 * the newer records back into its buffer and is retried as one segment).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Consumer, EachBatchPayload, Message, Producer } from 'kafkajs';
import type { PurchasesConfig } from '../config';
import { PartitionProgress } from '../process/partition-progress';
import { writeSegment, type SegmentStore } from '../store/segments';
import type { Log } from './log';
import { errorText } from './log';
import type { PublisherMetrics } from './metrics';
import { loadPartitionState, type PartitionState, type SegmentWrite, type WriteOutcome } from './partition-state';
import { IntakeTally, RecordIntake, type BufferBound } from './record-intake';
import type { SegmentBuffer } from './segment-buffer';

/** What a flush came to; `started`: the write goes on behind the partition's next batches. */
export type FlushResult = 'empty' | 'started' | 'written' | 'lost' | 'failed';

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
  /** writes still in flight for partitions dropped by a rebalance: a partition is re-read only after them */
  private readonly orphans = new Map<number, Promise<unknown>>();
  private readonly now: () => number;
  private readonly intake: RecordIntake;

  constructor(private readonly deps: SegmentWriterDeps) {
    this.now = deps.now ?? Date.now;
    this.intake = new RecordIntake(deps.store.topic, deps.purchases.limits, deps.log);
  }

  /** A rebalance: every partition is re-read from MinIO when next seen; buffers are dropped (re-consumed, never lost). */
  reset(): void {
    for (const s of this.states.values()) if (s.writing) this.orphans.set(s.partition, s.writing.done);
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
      await this.orphans.get(partition); // never rejects (write() catches)
      this.orphans.delete(partition);
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
      if (state.writing?.outcome && (await this.settle(state)) === 'lost') return;
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
    for (;;) {
      // while writes fail, the timer retries (not every record); at twice the limits the partition pauses
      const bound = this.bound(state.failing ? 2 : 1);
      if (!isFull(state.buffer, bound)) {
        if (i === messages.length) break;
        i = this.intake.take(state, messages, i, bound, now, tally);
        // kafkajs' resolveOffset parses the offset each call: once a buffer, not once a record
        payload.resolveOffset(messages[i - 1].offset);
        tally.report(this.deps.metrics);
      } else if (state.failing) {
        return this.pause(state);
      } else if ((await this.flush(state, true)) === 'lost') {
        return;
      }
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

  /** Takes in finished writes, flushes buffers older than the age limit and retries failed ones; called on a timer. */
  async flushAged(): Promise<void> {
    const due = (s: PartitionState) => s.writing?.outcome !== undefined || (!s.writing && this.isDue(s));
    await Promise.all(
      this.partitions()
        .filter(due)
        .map((s) =>
          this.withLock(s.partition, async () => {
            // the state may have been replaced (rebalance, lost race) while waiting for the lock
            if (s.writing?.outcome) await this.settle(s);
            // a failing partition's retry waits for its outcome: one write at a time, the buffer bounded
            if (this.states.get(s.partition) === s && !s.writing && this.isDue(s)) await this.flush(s, !s.failing);
          }),
        ),
    );
    this.updateBuffered();
  }

  private isDue(s: PartitionState): boolean {
    return s.buffer !== undefined && (s.failing !== undefined || this.now() - s.buffer.openedAt >= this.deps.purchases.segment.maxAgeMs);
  }

  /** Writes every buffer and waits for every write (a graceful stop). */
  async flushAll(): Promise<void> {
    await Promise.all(this.partitions().map((s) => this.withLock(s.partition, () => this.flush(s))));
  }

  /**
   * Writes the buffer as the segment at its first offset, after the segment
   * in flight is known to be in the chain. `behind`: returns once the write
   * has started (`started`); otherwise waits for its outcome.
   */
  async flush(state: PartitionState, behind = false): Promise<FlushResult> {
    const previous = await this.settle(state);
    if (previous === 'lost' || (behind && previous === 'failed')) return previous;
    const b = state.buffer;
    if (!b || b.last === undefined) return previous;
    state.buffer = undefined;
    const write: SegmentWrite = { buffer: b, done: this.write(state.partition, b).then((o) => void (write.outcome = o)) };
    state.writing = write;
    return behind ? 'started' : this.settle(state);
  }

  /** Dead letters first (at least once), then the conditional create; never rejects. */
  private async write(partition: number, b: SegmentBuffer): Promise<WriteOutcome> {
    const { store, metrics } = this.deps;
    const timer = metrics.segmentWrite.startTimer();
    try {
      await this.sendLetters(b.letters);
      b.letters.length = 0;
      const won = await writeSegment(store, partition, b.first, b.last as bigint, b.body());
      timer();
      return { result: won ? 'written' : 'lost' };
    } catch (err) {
      return { result: 'failed', error: errorText(err) };
    }
  }

  /** Waits for the write in flight, if any, and applies its outcome to the partition. */
  private async settle(state: PartitionState): Promise<FlushResult> {
    const write = state.writing;
    if (!write) return 'empty';
    await write.done;
    state.writing = undefined;
    const outcome = write.outcome as WriteOutcome;
    const { metrics, log } = this.deps;
    const b = write.buffer;
    if (outcome.result === 'failed') {
      metrics.flushFailures.inc();
      // the records taken since go back behind it: one buffer, retried as one segment
      state.buffer = state.buffer ? b.followedBy(state.buffer) : b;
      state.failing = outcome.error;
      this.deps.progress.failed(String(state.partition), outcome.error);
      log('warn', 'writing a segment failed (retried)', { partition: state.partition, error: outcome.error });
    } else if (outcome.result === 'lost') {
      metrics.conflicts.inc();
      log('warn', 'another writer created this segment first: re-reading the partition from MinIO', {
        partition: state.partition,
        first: b.first.toString(),
      });
      await this.resync(state);
    } else {
      this.written(state, (b.last as bigint) + 1n);
    }
    return outcome.result;
  }

  private written(state: PartitionState, durable: bigint): void {
    const { consumer, store, metrics, progress, log } = this.deps;
    state.durable = durable;
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
      n += (s.buffer?.purchases ?? 0) + (s.writing?.buffer.purchases ?? 0);
      this.deps.metrics.lag.set({ partition: String(s.partition) }, Number(s.highWatermark - s.durable));
    }
    this.deps.metrics.buffered.set(n);
  }
}

function isFull(b: SegmentBuffer | undefined, bound: BufferBound): boolean {
  return b !== undefined && (b.purchases >= bound.purchases || b.bytes >= bound.bytes);
}
