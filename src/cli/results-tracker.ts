/**
 * Watches the `recommendations` topic and matches results to the requests a
 * client sent (by request id = topic:partition:offset): end-to-end latency,
 * which model version answered, duplicates (delivery is at-least-once) and
 * requests still unanswered. Used by the demo, the serving benchmark and the
 * zero-downtime and fault tests.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Consumer, Kafka } from 'kafkajs';
import { decodeDeadLetter } from '../messaging/dead-letter';
import { requestId } from '../messaging/request-id';
import { decodeResult, type RecommendationResult } from '../messaging/result';
import type { SentRequest } from './request-client';

export interface Answer {
  requestId: string;
  sentAt: number;
  receivedAt: number;
  result: RecommendationResult;
}

export interface TrackerStats {
  sent: number;
  answered: number;
  pending: number;
  duplicates: number;
  errors: number;
  fallbacks: number;
  /** our requests that the model server dead-lettered instead of answering (watched only with a dead-letter topic) */
  deadLetters: number;
  /** answers per model version ("slot/version") */
  byModel: Record<string, number>;
  /** over the window: answers/s and end-to-end latency percentiles, ms */
  window: { seconds: number; perSecond: number; p50: number; p99: number; max: number };
}

/** Nearest-rank percentile of ascending `sorted` values (NaN when empty); the one used by the tracker and bench:serve. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export class ResultsTracker {
  private consumer: Consumer | undefined;
  private readonly sent = new Map<string, number>();
  private readonly answers = new Map<string, Answer>();
  private readonly recent: Answer[] = [];
  /** results that arrived before the producer call that sent their request returned */
  private readonly early = new Map<string, { result: RecommendationResult; receivedAt: number }>();
  private duplicates = 0;
  /** ids of our requests seen on the dead-letter topic */
  private readonly deadLettered = new Set<string>();
  private readonly listeners: ((a: Answer) => void)[] = [];

  /** With `deadLetterTopic`, dead letters of our own requests are counted too (a dead-lettered request is not pending). */
  constructor(
    private readonly kafka: Kafka,
    private readonly topic: string,
    private readonly deadLetterTopic?: string,
  ) {}

  /** Joins a fresh consumer group at the topic's end; resolves once it is consuming. */
  async start(): Promise<void> {
    const consumer = this.kafka.consumer({ groupId: `results-tracker-${randomUUID()}` });
    this.consumer = consumer;
    await consumer.connect();
    const topics = this.deadLetterTopic ? [this.topic, this.deadLetterTopic] : [this.topic];
    await consumer.subscribe({ topics, fromBeginning: false });
    const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
    await consumer.run({
      eachMessage: async ({ topic, message }) => {
        if (!message.value) return;
        if (topic === this.deadLetterTopic) {
          this.recordDeadLetter(message.value);
          return;
        }
        let result: RecommendationResult;
        try {
          result = decodeResult(message.value);
        } catch {
          return; // not ours to judge: the model server's own tests cover the encoding
        }
        this.record(result);
      },
    });
    await joined;
  }

  onAnswer(listener: (a: Answer) => void): void {
    this.listeners.push(listener);
  }

  expect(sent: SentRequest[]): void {
    for (const s of sent) {
      this.sent.set(s.requestId, s.sentAt);
      const early = this.early.get(s.requestId);
      if (early) {
        this.early.delete(s.requestId);
        this.record(early.result, early.receivedAt);
      }
    }
  }

  private record(result: RecommendationResult, receivedAt = performance.timeOrigin + performance.now()): void {
    const sentAt = this.sent.get(result.requestId);
    if (sentAt === undefined) {
      // another client's request, or ours before its send call returned
      if (this.early.size < 100_000) this.early.set(result.requestId, { result, receivedAt });
      return;
    }
    if (this.answers.has(result.requestId)) {
      this.duplicates += 1;
      return;
    }
    const answer: Answer = { requestId: result.requestId, sentAt, receivedAt, result };
    this.answers.set(result.requestId, answer);
    this.recent.push(answer);
    for (const l of this.listeners) l(answer);
  }

  private recordDeadLetter(bytes: Buffer): void {
    let id: string;
    try {
      id = requestId(decodeDeadLetter(bytes).source);
    } catch {
      return; // not a dead letter this project wrote
    }
    // a dead letter of a request sent before this tracker's send returned is rare enough to ignore
    if (this.sent.has(id)) this.deadLettered.add(id);
  }

  unanswered(): string[] {
    return [...this.sent.keys()].filter((id) => !this.answers.has(id) && !this.deadLettered.has(id));
  }

  all(): Answer[] {
    return [...this.answers.values()];
  }

  /** Resolves when every expected request has an answer, or rejects after `timeoutMs`. */
  async drain(timeoutMs: number): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (this.unanswered().length > 0) {
      if (Date.now() > end) throw new Error(`${this.unanswered().length} of ${this.sent.size} requests unanswered after ${timeoutMs} ms`);
      await sleep(100);
    }
  }

  stats(windowMs = 10_000): TrackerStats {
    const now = performance.timeOrigin + performance.now();
    while (this.recent.length && this.recent[0].receivedAt < now - windowMs) this.recent.shift();
    const latencies = this.recent.map((a) => a.receivedAt - a.sentAt).sort((a, b) => a - b);
    const byModel: Record<string, number> = {};
    let errors = 0;
    let fallbacks = 0;
    for (const a of this.answers.values()) {
      const key = `${a.result.model.slot ?? a.result.model.name}/${a.result.model.version ?? '?'}`;
      byModel[key] = (byModel[key] ?? 0) + 1;
      if (a.result.outcome === 'error') errors += 1;
      if (a.result.outcome === 'fallback') fallbacks += 1;
    }
    return {
      sent: this.sent.size,
      answered: this.answers.size,
      pending: this.unanswered().length,
      duplicates: this.duplicates,
      errors,
      fallbacks,
      deadLetters: this.deadLettered.size,
      byModel,
      window: {
        seconds: windowMs / 1000,
        perSecond: this.recent.length / (windowMs / 1000),
        p50: percentile(latencies, 50),
        p99: percentile(latencies, 99),
        max: latencies.at(-1) ?? NaN,
      },
    };
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
  }
}
