/**
 * The `mdata` consumer's batch handler: at-least-once, in offset order.
 *
 * A batch is worked through in chunks of up to `chunkSize` records, scored
 * by `concurrency` workers in parallel. For each chunk the results and dead
 * letters are written with one producer call (acks from all in-sync
 * replicas), and only then is the chunk's last offset committed: two Kafka
 * round trips per chunk, not per request. If the slot stays unavailable for a record
 * through all its retries, the records before it are written and committed,
 * it and everything after it are left unresolved, and the partition is
 * paused for a cool-down: kafkajs then fetches again from that record, so
 * nothing is lost and nothing is answered out of order. A crash between
 * write and commit re-answers a chunk; `requestId` lets consumers drop the
 * duplicates.
 */
import { performance } from 'node:perf_hooks';
import type { EachBatchPayload, KafkaMessage, Message, Producer, TopicMessages } from 'kafkajs';
import type { RecommendationRequest } from '../../messaging/schemas';
import { backoffDelay, type BackoffPolicy } from './backoff';
import type { ActiveModel } from './current-model';
import { buildDeadLetter, deadLetterMessage } from './dead-letter';
import type { Log } from './log';
import { countAnswered, countDeadLetter, type ServerMetrics } from './metrics';
import { validateRequest, type RejectionCode, type RequestLimits } from './request-validation';
import { buildResult, encodeResult, type RecommendationResult } from './result';
import type { ScoreOutcome } from './scoring';
import type { SourceRecord } from './source-record';
import type { UsageStats } from './usage-stats';

export interface ProcessorOptions {
  topics: { results: string; dlq: string };
  producer: Producer;
  limits: RequestLimits;
  /** records of one partition scored at the same time */
  concurrency: number;
  /** most records written and committed together */
  chunkSize: number;
  score: (request: RecommendationRequest) => Promise<ScoreOutcome>;
  /** pause of a partition after a record found the slot unavailable through all retries */
  cooldown: BackoffPolicy;
  metrics: ServerMetrics;
  usage: UsageStats;
  log: Log;
}

type Handled =
  | { kind: 'answered'; message: Message; result: RecommendationResult; model: ActiveModel }
  | { kind: 'dead-letter'; message: Message; code: RejectionCode; reason: string }
  | { kind: 'unavailable'; error: string };

export interface RequestProcessor {
  eachBatch(payload: EachBatchPayload): Promise<void>;
  /** request records dead-lettered since start */
  deadLetters(): number;
  /** cancels pending cool-down timers (the consumer is stopping) */
  close(): void;
}

export function createRequestProcessor(options: ProcessorOptions): RequestProcessor {
  const { topics, producer, metrics, usage, log } = options;
  const resumeTimers = new Set<NodeJS.Timeout>();
  /** consecutive unavailable rounds per partition: grows the cool-down */
  const unavailableRounds = new Map<string, number>();
  let deadLettered = 0;

  async function handle(source: SourceRecord, record: KafkaMessage): Promise<Handled> {
    const validation = validateRequest(record.value, options.limits);
    if (!validation.ok) {
      const letter = buildDeadLetter(
        source,
        { key: record.key, value: record.value, timestamp: Number(record.timestamp) },
        validation,
        new Date(),
      );
      return { kind: 'dead-letter', message: deadLetterMessage(letter, record.key), code: validation.code, reason: validation.reason };
    }
    const { request } = validation;
    const started = performance.now();
    const outcome = await options.score(request);
    if (outcome.retries > 0) metrics.predictRetries.inc(outcome.retries);
    if (outcome.kind === 'unavailable') return { kind: 'unavailable', error: outcome.error };
    const { model } = outcome;
    const result = buildResult(
      {
        source,
        user: request.user,
        model: { name: model.name, slot: model.slot, version: model.version, url: model.url },
        latencyMs: performance.now() - started,
        requestTimestamp: Number(record.timestamp),
        servedAt: new Date(),
      },
      outcome.body,
    );
    const message: Message = {
      key: String(request.user),
      value: encodeResult(result),
      headers: { 'request-id': result.requestId, 'content-type': 'application/json' },
    };
    return { kind: 'answered', message, result, model };
  }

  /**
   * Scores a chunk with `concurrency` workers taking records in offset order.
   * Once a record finds the slot unavailable no later record is started
   * (they would be dropped anyway); the ones already running finish.
   */
  async function handleChunk(topic: string, partition: number, chunk: KafkaMessage[]): Promise<(Handled | undefined)[]> {
    const handled = new Array<Handled | undefined>(chunk.length);
    let next = 0;
    let stuckAt = Number.POSITIVE_INFINITY;
    const worker = async (): Promise<void> => {
      while (next < chunk.length && next < stuckAt) {
        const i = next++;
        const h = await handle({ topic, partition, offset: chunk[i].offset }, chunk[i]);
        handled[i] = h;
        if (h.kind === 'unavailable') stuckAt = Math.min(stuckAt, i);
      }
    };
    await Promise.all(Array.from({ length: Math.min(options.concurrency, chunk.length) }, worker));
    return handled;
  }

  async function write(handled: Handled[]): Promise<void> {
    const results: Message[] = [];
    const deadLetters: Message[] = [];
    for (const h of handled) {
      if (h.kind === 'answered') results.push(h.message);
      else if (h.kind === 'dead-letter') deadLetters.push(h.message);
    }
    const topicMessages: TopicMessages[] = [];
    if (results.length) topicMessages.push({ topic: topics.results, messages: results });
    if (deadLetters.length) topicMessages.push({ topic: topics.dlq, messages: deadLetters });
    if (topicMessages.length) await producer.sendBatch({ acks: -1, topicMessages });
  }

  function account(handled: Handled[], source: { topic: string; partition: number }, offsets: string[]): void {
    handled.forEach((h, i) => {
      if (h.kind === 'answered') {
        countAnswered(metrics, h.result.outcome, h.result.latencyMs);
        usage.record(h.model, h.result.outcome, h.result.latencyMs);
        if (h.result.outcome !== 'scored') {
          const why = h.result.outcome === 'fallback' ? h.result.reason : h.result.error;
          log('warn', `request answered with ${h.result.outcome === 'fallback' ? 'a popularity fallback' : 'an error'}`, {
            requestId: h.result.requestId,
            reason: why,
          });
        }
      } else if (h.kind === 'dead-letter') {
        deadLettered++;
        countDeadLetter(metrics, h.code);
        log('warn', 'request dead-lettered', { ...source, offset: offsets[i], code: h.code, reason: h.reason });
      }
    });
  }

  function pauseFor(payload: EachBatchPayload, key: string, error: string, offset: string): void {
    const round = unavailableRounds.get(key) ?? 0;
    unavailableRounds.set(key, round + 1);
    const delay = backoffDelay(round, options.cooldown);
    metrics.unavailablePauses.inc();
    log('warn', 'model unavailable after retries: pausing the partition, the request stays uncommitted', {
      topic: payload.batch.topic,
      partition: payload.batch.partition,
      offset,
      retryInMs: delay,
      error,
    });
    const resume = payload.pause();
    const timer = setTimeout(() => {
      resumeTimers.delete(timer);
      resume();
    }, delay);
    resumeTimers.add(timer);
  }

  return {
    async eachBatch(payload) {
      const { batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, isRunning, isStale } = payload;
      const { topic, partition } = batch;
      const key = `${topic}|${partition}`;
      for (let from = 0; from < batch.messages.length; from += options.chunkSize) {
        if (!isRunning() || isStale()) return;
        const chunk = batch.messages.slice(from, from + options.chunkSize);
        const handled = await handleChunk(topic, partition, chunk);
        const stuck = handled.findIndex((h) => h === undefined || h.kind === 'unavailable');
        // Records after a stuck one are dropped, not written: they are re-fetched
        // and answered in order once the stuck one is.
        const done = stuck < 0 ? handled.length : stuck;
        if (done > 0) {
          const answered = handled.slice(0, done) as Handled[];
          await write(answered);
          const last = chunk[done - 1].offset;
          await commitOffsetsIfNecessary({ topics: [{ topic, partitions: [{ partition, offset: (BigInt(last) + 1n).toString() }] }] });
          for (let i = 0; i < done; i++) resolveOffset(chunk[i].offset);
          account(answered, { topic, partition }, chunk.slice(0, done).map((r) => r.offset));
        }
        if (stuck >= 0) {
          // At shutdown the retries were cut short: leave the record for the next owner.
          if (!isRunning()) return;
          const h = handled[stuck];
          pauseFor(payload, key, h?.kind === 'unavailable' ? h.error : 'not scored', chunk[stuck].offset);
          return;
        }
        unavailableRounds.delete(key);
        await heartbeat();
      }
    },
    deadLetters: () => deadLettered,
    close() {
      for (const timer of resumeTimers) clearTimeout(timer);
      resumeTimers.clear();
    },
  };
}
