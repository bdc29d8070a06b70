/**
 * The `mdata` consumer's batch handler: at-least-once, in offset order.
 *
 * A batch is worked through in chunks of up to `chunkSize` records. The
 * valid requests of a chunk are scored together (`score` packs their
 * products into as few predict calls as the slot's row limit allows); then
 * the results and dead letters are written (split into produce calls of at
 * most `maxWriteBytes`, under the broker's message limit) with acks from
 * all in-sync replicas: the answers are out. Their popularity shadows are
 * then written in produce calls of their own (batch records, several
 * answers each: ./shadow-batches.ts), and only once they are is the
 * chunk's last offset committed (DeferredCommits: in chunk order, while the
 * next chunk is already being answered). If the slot stays unavailable for
 * a record through all its retries, the records before it are written and committed, it and
 * everything after it are left unresolved, and the partition is paused
 * for a cool-down: kafkajs then fetches again from that record, so nothing
 * is lost and nothing is answered out of order. A crash between write and
 * commit re-answers a chunk; `requestId` lets consumers drop the duplicates.
 */
import { performance } from 'node:perf_hooks';
import type { EachBatchPayload, KafkaMessage, Message, Producer, TopicMessages } from 'kafkajs';
import { buildDeadLetter, deadLetterMessage } from '../../messaging/dead-letter';
import { buildResult, encodeResult, eventTimeOf, type RecommendationResult } from '../../messaging/result';
import type { RecommendationRequest } from '../../messaging/schemas';
import type { SourceRecord } from '../../messaging/request-id';
import { backoffDelay, type BackoffPolicy } from '../backoff';
import type { ActiveModel } from './current-model';
import { errorText, type Log } from '../../process/json-log';
import { countAnswered, countDeadLetter, type ServerMetrics } from './metrics';
import type { PartitionProgress } from '../../process/partition-progress';
import { validateRequest, type RejectionCode, type RequestLimits } from './request-validation';
import type { ScoreOutcome } from './scoring';
import type { UsageStats } from './usage-stats';
import { DeferredCommits } from './deferred-commits';
import type { LoadPopularity } from './popularity-source';
import { shadowBatchMessages, type PendingShadow } from './shadow-batches';
import { popularityShadowOf, shadowSubject, type ShadowSubject } from './shadows';

export interface ProcessorOptions {
  topics: { results: string; dlq: string };
  producer: Producer;
  limits: RequestLimits;
  /** most records scored, written and committed together */
  chunkSize: number;
  /** most bytes (keys + values) in one produce call; stays well under the broker's 1 MB message limit */
  maxWriteBytes?: number;
  /** scores requests in offset order; one outcome each (see scoreRequests) */
  score: (requests: RecommendationRequest[]) => Promise<ScoreOutcome[]>;
  /** pause of a partition after a record found the slot unavailable through all retries */
  cooldown: BackoffPolicy;
  metrics: ServerMetrics;
  usage: UsageStats;
  /** where a partition's progress (or its repeated failure) is recorded for /healthz */
  progress?: PartitionProgress;
  /** shadows of the scored answers (docs/serving.md, "Shadows"); absent: none are written */
  shadows?: ProcessorShadows;
  /** a partition's answered chunks waiting for their shadows and commit at most (more wait); default 16 */
  maxQueuedChunks?: number;
  log: Log;
}

export interface ProcessorShadows {
  topic: string;
  /** writes the popularity shadows: a producer of its own, so the next chunk's answers never queue behind them */
  producer: Producer;
  /** the shadow topic's partition count as that producer's metadata has it (the batch records' partitions) */
  partitions: (topic: string) => Promise<number>;
  /** popularity rankings per version: a popularity shadow of every scored answer, written after the results, before the commit */
  loadPopularity?: LoadPopularity;
  /** takes the committed answers' subjects for the previous-model shadow (sampled, queued, out of the answer's path) */
  previous?: { offer(subject: ShadowSubject): void };
}

export const DEFAULT_MAX_WRITE_BYTES = 512 * 1024;

type TopicMessage = { topic: string; message: Message };
export const DEFAULT_MAX_QUEUED_CHUNKS = 16;

type Handled =
  | { kind: 'answered'; message: Message; result: RecommendationResult; model: ActiveModel; subject?: ShadowSubject }
  | { kind: 'dead-letter'; message: Message; code: RejectionCode; reason: string }
  | { kind: 'unavailable'; error: string };

export interface RequestProcessor {
  eachBatch(payload: EachBatchPayload): Promise<void>;
  /** request records dead-lettered since start */
  deadLetters(): number;
  /** resumes every paused partition at once (a new model was adopted: no use waiting out a grown cool-down) */
  wake(): void;
  /** cancels pending cool-down timers (the consumer is stopping) */
  close(): void;
  /** waits for the commits in flight (before the consumer leaves its group) */
  settled(): Promise<void>;
}

function deadLettered(source: SourceRecord, record: KafkaMessage, rejection: { code: RejectionCode; reason: string }): Handled {
  const letter = buildDeadLetter(
    source,
    { key: record.key, value: record.value, timestamp: Number(record.timestamp) },
    rejection,
    new Date(),
  );
  return { kind: 'dead-letter', message: deadLetterMessage(letter, record.key), code: rejection.code, reason: rejection.reason };
}

function answered(
  source: SourceRecord,
  record: KafkaMessage,
  request: RecommendationRequest,
  outcome: ScoreOutcome & { kind: 'answered' },
  latencyMs: number,
): Handled {
  const { model } = outcome;
  const result = buildResult(
    {
      source,
      user: request.user,
      model: { name: model.name, slot: model.slot, version: model.version, url: model.url },
      latencyMs,
      requestTimestamp: Number(record.timestamp),
      eventTime: eventTimeOf(request.timeMs, Number(record.timestamp)),
      servedAt: new Date(),
    },
    outcome.body,
  );
  const message: Message = {
    key: String(request.user),
    value: encodeResult(result),
    headers: { 'request-id': result.requestId, 'content-type': 'application/json' },
  };
  const subject = result.outcome === 'scored' ? shadowSubject(request, result, outcome.catalogueRows) : undefined;
  return { kind: 'answered', message, result, model, ...(subject && { subject }) };
}

/** Splits messages into groups of at most `maxBytes` (a single larger message goes alone). */
export function splitByBytes(messages: { topic: string; message: Message }[], maxBytes: number): TopicMessages[][] {
  const size = (m: Message): number =>
    (m.value ? Buffer.byteLength(m.value as Buffer | string) : 0) + (m.key ? Buffer.byteLength(m.key) : 0) + 64;
  const writes: TopicMessages[][] = [];
  let current: Map<string, Message[]> = new Map();
  let bytes = 0;
  const flush = (): void => {
    if (current.size) writes.push([...current].map(([topic, msgs]) => ({ topic, messages: msgs })));
    current = new Map();
    bytes = 0;
  };
  for (const { topic, message } of messages) {
    const s = size(message);
    if (bytes > 0 && bytes + s > maxBytes) flush();
    const list = current.get(topic) ?? [];
    list.push(message);
    current.set(topic, list);
    bytes += s;
  }
  flush();
  return writes;
}

export function createRequestProcessor(options: ProcessorOptions): RequestProcessor {
  return new ChunkedRequestProcessor(options);
}

/** The batch handler's state (cool-down timers, rounds, counts) and its steps: validate+score, write, commit, account, pause. */
class ChunkedRequestProcessor implements RequestProcessor {
  private readonly maxWriteBytes: number;
  /** pending cool-downs: their timers and what resumes the partition */
  private readonly resumeTimers = new Map<NodeJS.Timeout, () => void>();
  /** consecutive unavailable rounds per partition: grows the cool-down */
  private readonly unavailableRounds = new Map<string, number>();
  private deadLetterCount = 0;
  private readonly commits: DeferredCommits<PendingShadow>;

  constructor(private readonly options: ProcessorOptions) {
    this.maxWriteBytes = options.maxWriteBytes ?? DEFAULT_MAX_WRITE_BYTES;
    const writeShadows = async (pending: PendingShadow[]): Promise<void> => {
      const shadows = options.shadows!; // chunks have shadows only with it
      const records = shadowBatchMessages(pending, await shadows.partitions(shadows.topic));
      await this.send(
        records.map((message) => ({ topic: shadows.topic, message })),
        shadows.producer,
      );
      options.metrics.shadows.inc({ kind: 'popularity' }, pending.length);
    };
    this.commits = new DeferredCommits(writeShadows, options.maxQueuedChunks ?? DEFAULT_MAX_QUEUED_CHUNKS, options.log);
  }

  async eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, heartbeat, isRunning, isStale } = payload;
    const key = `${batch.topic}|${batch.partition}`;
    const { chunkSize } = this.options;
    try {
      if (batch.messages.length > 0) this.commits.check(key, batch.messages[0].offset);
      for (let from = 0; from < batch.messages.length; from += chunkSize) {
        if (!isRunning() || isStale()) break;
        if (!(await this.processChunk(payload, key, batch.messages.slice(from, from + chunkSize)))) break;
        await heartbeat();
      }
      // a stopping consumer leaves its group once this returns: the commits go first
      if (!isRunning()) await this.commits.settled();
    } catch (err) {
      // kafkajs retries the batch (and restarts the consumer); health reports a partition that keeps failing.
      this.options.progress?.failed(key, errorText(err));
      throw err;
    }
  }

  deadLetters(): number {
    return this.deadLetterCount;
  }

  wake(): void {
    const resumes = [...this.resumeTimers.values()];
    this.close();
    this.unavailableRounds.clear();
    for (const resume of resumes) resume();
  }

  close(): void {
    for (const timer of this.resumeTimers.keys()) clearTimeout(timer);
    this.resumeTimers.clear();
  }

  settled(): Promise<void> {
    return this.commits.settled();
  }

  /** Works through one chunk; returns false when the partition was paused (the rest of the batch waits). */
  private async processChunk(payload: EachBatchPayload, key: string, chunk: KafkaMessage[]): Promise<boolean> {
    const { topic, partition } = payload.batch;
    const handled = await this.handleChunk(topic, partition, chunk);
    const stuck = handled.findIndex((h) => h.kind === 'unavailable');
    // Records after a stuck one are dropped, not written: they are re-fetched
    // and answered in order once the stuck one is.
    const done = stuck < 0 ? handled.length : stuck;
    if (done > 0) {
      const answeredPart = handled.slice(0, done);
      await this.write(answeredPart);
      // the answers are out: their shadows and the commit after them go on while the next chunk is answered
      const next = (BigInt(chunk[done - 1].offset) + 1n).toString();
      const commit = () => payload.commitOffsetsIfNecessary({ topics: [{ topic, partitions: [{ partition, offset: next }] }] });
      await this.commits.add(key, { from: chunk[0].offset, shadows: () => this.popularityShadows(answeredPart), commit });
      for (let i = 0; i < done; i++) payload.resolveOffset(chunk[i].offset);
      this.options.progress?.advanced(key);
      this.account(
        answeredPart,
        { topic, partition },
        chunk.slice(0, done).map((r) => r.offset),
      );
    }
    if (stuck >= 0) {
      // At shutdown the retries were cut short: leave the record for the next owner.
      if (!payload.isRunning()) return false;
      const h = handled[stuck];
      this.pauseFor(payload, key, h.kind === 'unavailable' ? h.error : 'not scored', chunk[stuck].offset);
      return false;
    }
    this.unavailableRounds.delete(key);
    return true;
  }

  /** Validates the chunk's records, scores the valid ones together, builds their results. */
  private async handleChunk(topic: string, partition: number, chunk: KafkaMessage[]): Promise<Handled[]> {
    const handled = new Array<Handled>(chunk.length);
    const valid: { index: number; request: RecommendationRequest }[] = [];
    chunk.forEach((record, i) => {
      const validation = validateRequest(record.value, this.options.limits);
      if (validation.ok) valid.push({ index: i, request: validation.request });
      else handled[i] = deadLettered({ topic, partition, offset: record.offset }, record, validation);
    });
    if (valid.length === 0) return handled;
    const started = performance.now();
    const outcomes = await this.options.score(valid.map((v) => v.request));
    const latencyMs = performance.now() - started;
    valid.forEach(({ index, request }, j) => {
      const outcome = outcomes[j];
      if (outcome.retries > 0) this.options.metrics.predictRetries.inc(outcome.retries);
      const record = chunk[index];
      handled[index] =
        outcome.kind === 'unavailable'
          ? { kind: 'unavailable', error: outcome.error }
          : answered({ topic, partition, offset: record.offset }, record, request, outcome, latencyMs);
    });
    return handled;
  }

  /**
   * Popularity's answer beside each scored one, built once the answers are
   * written (their produce calls carry only them) and written by
   * DeferredCommits, in batch records, before the chunk's commit (at least
   * once, like the results).
   */
  private async popularityShadows(handled: Handled[]): Promise<PendingShadow[]> {
    const load = this.options.shadows?.loadPopularity;
    if (!load) return [];
    // each served version's ranking is read once per chunk (cached per version anyway), the shadows built synchronously
    const orders = new Map<string, readonly number[] | undefined>();
    const pending: PendingShadow[] = [];
    for (const h of handled) {
      if (h.kind !== 'answered' || !h.subject) continue;
      const { slot, version } = h.subject.servedBy;
      const key = `${slot}/${version}`;
      if (!orders.has(key)) orders.set(key, slot === null || version === null ? undefined : await load(slot, version));
      const order = orders.get(key);
      if (order) pending.push(popularityShadowOf(h.subject, order));
    }
    return pending;
  }

  private async write(handled: Handled[]): Promise<void> {
    const { topics } = this.options;
    const messages: { topic: string; message: Message }[] = [];
    for (const h of handled) {
      if (h.kind === 'answered') messages.push({ topic: topics.results, message: h.message });
      else if (h.kind === 'dead-letter') messages.push({ topic: topics.dlq, message: h.message });
    }
    await this.send(messages);
  }

  /** In order, one call at a time: a partition's results stay in offset order. */
  private async send(messages: TopicMessage[], producer = this.options.producer): Promise<void> {
    for (const topicMessages of splitByBytes(messages, this.maxWriteBytes)) await producer.sendBatch({ acks: -1, topicMessages });
  }

  private account(handled: Handled[], source: { topic: string; partition: number }, offsets: string[]): void {
    const { metrics, usage, log } = this.options;
    handled.forEach((h, i) => {
      if (h.kind === 'answered') {
        countAnswered(metrics, h.result.outcome, h.result.latencyMs);
        usage.record(h.model, h.result.outcome, h.result.latencyMs);
        if (h.subject) this.options.shadows?.previous?.offer(h.subject);
        if (h.result.outcome !== 'scored') {
          const why = h.result.outcome === 'fallback' ? h.result.reason : h.result.error;
          log('warn', `request answered with ${h.result.outcome === 'fallback' ? 'a popularity fallback' : 'an error'}`, {
            requestId: h.result.requestId,
            reason: why,
          });
        }
      } else if (h.kind === 'dead-letter') {
        this.deadLetterCount++;
        countDeadLetter(metrics, h.code);
        log('warn', 'request dead-lettered', { ...source, offset: offsets[i], code: h.code, reason: h.reason });
      }
    });
  }

  private pauseFor(payload: EachBatchPayload, key: string, error: string, offset: string): void {
    const round = this.unavailableRounds.get(key) ?? 0;
    this.unavailableRounds.set(key, round + 1);
    const delay = backoffDelay(round, this.options.cooldown);
    this.options.metrics.unavailablePauses.inc();
    this.options.log('warn', 'model unavailable after retries: pausing the partition, the request stays uncommitted', {
      topic: payload.batch.topic,
      partition: payload.batch.partition,
      offset,
      retryInMs: delay,
      error,
    });
    const resume = payload.pause();
    const timer = setTimeout(() => {
      this.resumeTimers.delete(timer);
      resume();
    }, delay);
    this.resumeTimers.set(timer, resume);
  }
}
