/**
 * Previous-model shadows: a sampled share of the committed scored answers
 * (sampledForShadow: a function of the request id) is scored again on the
 * STANDBY slot (the previous version), out of the answer's path. `offer`
 * only appends to a bounded queue (a full queue drops and counts); one
 * loop drains it in predict calls of at most `maxRows` rows and writes the
 * records with a producer of their own, so neither a slow standby nor its
 * writes delay an answer or a commit, and nothing of it reaches the
 * results topic.
 *
 * Best effort by design: the queue lives in memory, so a crash (or a stop
 * before it drains) loses the shadows waiting in it; the online evaluator
 * counts only the pairs it has (docs/serving.md, "Shadows").
 */
import type { Message } from 'kafkajs';
import { errorText, type Log } from '../../process/json-log';
import type { ShadowDropReason, ServerMetrics } from './metrics';
import type { PerVersion, TableSizes } from './popularity-source';
import type { PredictClient, PredictOutcome } from './predict-client';
import { rankByScore } from './ranking';
import { candidatesOf, sampledForShadow, shadowMessage, shadowRecord, type ShadowSubject } from './shadows';
import type { StandbyLookup, StandbyModel } from './standby-slot';

export interface PreviousShadowOptions {
  /** share of the answers sampled, 0..1 */
  share: number;
  queueMax: number;
  /** most rows in one predict call on the standby */
  maxRows: number;
  standby: StandbyLookup;
  /**
   * The model the serving one replaced (the previous descriptor adopted): the standby shadows only while it serves
   * exactly that version — a standby slot holding another version (an older deployment's, another registry's) is not
   * "the previous model". Unset: any other version of the standby.
   */
  replacedBy?: (served: { slot: string | null; version: number | null }) => { slot: string | null; version: number | null } | undefined;
  predictRows: PredictClient['predictRows'];
  /** the standby version's tables: a visit ranks its catalogue; ids beyond them are not sent */
  tableSizes?: PerVersion<TableSizes>;
  /** writes shadow records to the shadow topic (acks from all in-sync replicas) */
  write: (messages: Message[]) => Promise<void>;
  metrics: ServerMetrics;
  log: Log;
}

interface Job {
  subject: ShadowSubject;
  standby: StandbyModel;
  products: readonly number[];
}

export class PreviousModelShadows {
  private readonly queue: ShadowSubject[] = [];
  private draining: Promise<void> | undefined;
  private closed = false;

  constructor(private readonly options: PreviousShadowOptions) {}

  /** Queues a sampled answer for the standby (never waits); drops and counts it when the queue is full. */
  offer(subject: ShadowSubject): void {
    if (this.closed || !sampledForShadow(subject.requestId, this.options.share)) return;
    if (this.queue.length >= this.options.queueMax) return this.drop('queue-full');
    this.queue.push(subject);
    this.options.metrics.shadowQueueDepth.set(this.queue.length);
    this.draining ??= this.drain().finally(() => (this.draining = undefined));
  }

  depth(): number {
    return this.queue.length;
  }

  /** Stops taking answers; waits for the batch being scored. Shadows still queued are lost (best effort). */
  async close(): Promise<void> {
    this.closed = true;
    this.queue.length = 0;
    this.options.metrics.shadowQueueDepth.set(0);
    await this.draining;
  }

  private drop(reason: ShadowDropReason, count = 1): void {
    this.options.metrics.shadowDrops.inc({ reason }, count);
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0 && !this.closed) {
      const jobs = await this.takeJobs();
      this.options.metrics.shadowQueueDepth.set(this.queue.length);
      if (jobs.length === 0) continue;
      try {
        await this.score(jobs);
      } catch (err) {
        this.drop('write-failed', jobs.length);
        this.options.log('warn', 'previous-model shadows not written', { count: jobs.length, error: errorText(err) });
      }
    }
  }

  /** The next queued answers that fit one predict call, with their standby and candidates; the others dropped and counted. */
  private async takeJobs(): Promise<Job[]> {
    const jobs: Job[] = [];
    let rows = 0;
    while (this.queue.length > 0) {
      const subject = this.queue[0];
      const job = await this.jobOf(subject);
      if (
        job &&
        jobs.length > 0 &&
        (rows + job.products.length > this.options.maxRows || job.standby.predictUrl !== jobs[0].standby.predictUrl)
      )
        break;
      this.queue.shift();
      if (!job) continue;
      jobs.push(job);
      rows += job.products.length;
    }
    return jobs;
  }

  private async jobOf(subject: ShadowSubject): Promise<Job | undefined> {
    const active = subject.servedBy.slot;
    const answer = active === null ? undefined : await this.options.standby(active);
    if (!answer?.ok) return void this.drop('standby-unavailable');
    const standby = answer.model;
    // only a different version is a previous model (a standby re-serving the active version says nothing)
    if (standby.version === subject.servedBy.version) return void this.drop('standby-same-version');
    const before = this.options.replacedBy?.(subject.servedBy);
    if (this.options.replacedBy && (before?.slot !== standby.slot || before.version !== standby.version))
      return void this.drop('standby-not-previous');
    const sizes = await this.options.tableSizes?.(standby.slot, standby.version);
    const products = candidatesOf(subject, sizes?.productRows).filter((p) => !sizes || p < sizes.productRows);
    // a customer the previous model never saw, or a visit without its catalogue: it cannot answer
    if (products.length === 0 || (sizes && subject.user >= sizes.userRows)) return void this.drop('standby-rejected');
    return { subject, standby, products };
  }

  /** The rows in calls of at most `maxRows` (a visit's catalogue may be larger): the scores of all, or the first failure. */
  private async predictInCalls(url: string, users: number[], products: number[]): Promise<PredictOutcome> {
    const scores: number[] = [];
    for (let from = 0; from < users.length; from += this.options.maxRows) {
      const to = from + this.options.maxRows;
      const outcome = await this.options.predictRows(url, users.slice(from, to), products.slice(from, to));
      if (outcome.kind !== 'ok') return outcome;
      for (const score of outcome.scores) scores.push(score);
    }
    return { kind: 'ok', scores };
  }

  /** The predict calls for `jobs` (one standby); a rejected call is retried per job, an unavailable one drops them. */
  private async score(jobs: Job[]): Promise<void> {
    const users = jobs.flatMap((j) => j.products.map(() => j.subject.user));
    const products = jobs.flatMap((j) => j.products);
    const outcome = await this.predictInCalls(jobs[0].standby.predictUrl, users, products);
    if (outcome.kind === 'rejected' && jobs.length > 1) {
      for (const job of jobs) await this.score([job]);
      return;
    }
    if (outcome.kind !== 'ok') return this.drop(outcome.kind === 'rejected' ? 'standby-rejected' : 'standby-unavailable', jobs.length);
    let at = 0;
    const messages = jobs.map((j) => {
      const scores = outcome.scores.slice(at, (at += j.products.length));
      const model = { slot: j.standby.slot, version: j.standby.version };
      return shadowMessage(shadowRecord(j.subject, 'previous-model', model, rankByScore(j.products, scores)));
    });
    await this.options.write(messages);
    this.options.metrics.shadows.inc({ kind: 'previous-model' }, messages.length);
  }
}
