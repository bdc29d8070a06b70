/**
 * A partition's popularity shadows and offset commits, off the answer's
 * path: once a chunk's answers are written, the chunk is queued here and
 * the next chunk is fetched, scored and answered at once. One loop per
 * partition takes every chunk queued so far, builds and writes their shadows
 * together (their batch records and produce calls shared by many chunks),
 * then commits the last
 * one's offset; so a committed offset never passes a chunk whose shadows are
 * not written (at least once, like the results), and commits stay in chunk
 * order (docs/serving.md, "Shadows").
 *
 * A round whose shadows could not be written stops the partition's commits:
 * each batch of it that starts after that round's first chunk fails
 * (`check`) until kafkajs, having given up retrying, restarts the consumer
 * and fetches again from the last commit (at or before that chunk), which
 * re-answers and re-shadows it. A failed commit (a rebalance took the
 * partition) only logs: a later commit covers it, or the new owner
 * re-answers from the last one.
 */
import { errorText, type Log } from '../../process/json-log';

/** A batch started after a chunk whose shadows were not written: refused until the partition is fetched from before it. */
export class ShadowsNotWrittenError extends Error {
  constructor(key: string, fromOffset: bigint, cause: unknown) {
    super(`shadows of ${key} from offset ${fromOffset} were not written (${errorText(cause)}): waiting to fetch from the last commit`);
    this.name = 'ShadowsNotWrittenError';
  }
}

/** A chunk whose answers are written; `T`: a shadow as `write` takes it. */
export interface AnsweredChunk<T> {
  /** its first offset */
  from: string;
  /** builds its shadows (in the loop, off the answer's turn) */
  shadows: () => Promise<T[]>;
  /** commits its end */
  commit: () => Promise<void>;
}

interface Partition<T> {
  queued: AnsweredChunk<T>[];
  /** the loop's current round, while it runs */
  round?: Promise<void>;
  /** the first offset of the round whose shadows failed, and why */
  failed?: { from: bigint; error: unknown };
}

export class DeferredCommits<T> {
  private readonly partitions = new Map<string, Partition<T>>();

  /**
   * `write`: writes a round's shadows (in order, acks from all replicas);
   * `maxQueued`: chunks of a partition waiting for the next round at most;
   * one more waits for the round in flight (bounds what is held in memory).
   */
  constructor(
    private readonly write: (shadows: T[]) => Promise<void>,
    private readonly maxQueued: number,
    private readonly log: Log,
  ) {}

  /** Throws when `key` failed at a chunk after `firstOffset` (this batch is not the re-fetch); a re-fetch clears the failure. */
  check(key: string, firstOffset: string): void {
    const failed = this.partitions.get(key)?.failed;
    if (!failed) return;
    if (BigInt(firstOffset) > failed.from) throw new ShadowsNotWrittenError(key, failed.from, failed.error);
    this.partitions.delete(key);
  }

  /** Queues a chunk; returns at once unless `maxQueued` chunks of the partition are already waiting. */
  async add(key: string, chunk: AnsweredChunk<T>): Promise<void> {
    const p = this.partitions.get(key) ?? { queued: [] };
    this.partitions.set(key, p);
    if (p.failed) return; // nothing more is committed until the re-fetch
    p.queued.push(chunk);
    p.round ??= this.loop(key, p);
    if (p.queued.length > this.maxQueued) await p.round;
  }

  /** Waits for every round in flight (a stopping consumer, before it leaves its group). */
  async settled(): Promise<void> {
    await Promise.all([...this.partitions.values()].flatMap((p) => (p.round ? [p.round] : [])));
  }

  /** Rounds until nothing is queued: the queued chunks' shadows written together, then the last one's commit. */
  private async loop(key: string, p: Partition<T>): Promise<void> {
    try {
      while (p.queued.length > 0 && !p.failed) {
        // behind the I/O already waiting (the next fetch, predict answers): the shadows' JSON and Kafka encoding come after them
        await new Promise<void>((resolve) => setImmediate(resolve));
        const chunks = p.queued.splice(0);
        try {
          const shadows = (await Promise.all(chunks.map((c) => c.shadows()))).flat();
          if (shadows.length > 0) await this.write(shadows);
        } catch (err) {
          p.failed = { from: BigInt(chunks[0].from), error: err };
          p.queued.length = 0;
          const context = { partition: key, fromOffset: chunks[0].from, error: errorText(err) };
          this.log('error', 'shadow records not written: no further commit of the partition until it is fetched again', context);
          return;
        }
        await chunks[chunks.length - 1]
          .commit()
          .catch((err: unknown) => this.log('warn', 'offset commit failed', { partition: key, error: errorText(err) }));
      }
    } finally {
      p.round = undefined;
    }
  }
}
