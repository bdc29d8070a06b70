/**
 * Per-model serving statistics for `GET /state`, as the seed's model server
 * reported them: since when each model served, how many requests it
 * answered and how long they took.
 */
import type { ActiveModel } from './current-model';
import type { ResultOutcome } from '../../messaging/result';

export interface ModelUsage {
  name: string;
  description: string;
  url: string;
  slot: string | null;
  version: number | null;
  since: string;
  /** when another model took over; null while it serves */
  until: string | null;
  /** requests answered (scored, fallback and error results) */
  count: number;
  scored: number;
  fallbacks: number;
  errors: number;
  meanLatencyMs: number | null;
  minLatencyMs: number | null;
  maxLatencyMs: number | null;
}

interface Accumulator {
  model: ActiveModel;
  until: Date | null;
  count: number;
  byOutcome: Record<ResultOutcome, number>;
  totalMs: number;
  minMs: number;
  maxMs: number;
}

export class UsageStats {
  /** keyed by URL: a slot/version pair is one model */
  private readonly models = new Map<string, Accumulator>();

  constructor(private readonly keep = 20) {}

  /** Starts the record of a newly serving model and closes the previous one. */
  switchedTo(model: ActiveModel, previous: ActiveModel | undefined): void {
    if (previous) {
      const prev = this.models.get(previous.url);
      if (prev) prev.until = model.since;
    }
    const existing = this.models.get(model.url);
    if (existing) {
      // Back to an earlier URL (a rollback): keep its counts, re-open it.
      this.models.delete(model.url);
      existing.model = model;
      existing.until = null;
      this.models.set(model.url, existing);
    } else {
      this.models.set(model.url, {
        model,
        until: null,
        count: 0,
        byOutcome: { scored: 0, fallback: 0, error: 0 },
        totalMs: 0,
        minMs: Number.POSITIVE_INFINITY,
        maxMs: 0,
      });
    }
    while (this.models.size > this.keep) this.models.delete(this.models.keys().next().value as string);
  }

  record(model: ActiveModel, outcome: ResultOutcome, latencyMs: number): void {
    const acc = this.models.get(model.url);
    if (!acc) return; // a model older than the kept history
    acc.count++;
    acc.byOutcome[outcome]++;
    acc.totalMs += latencyMs;
    acc.minMs = Math.min(acc.minMs, latencyMs);
    acc.maxMs = Math.max(acc.maxMs, latencyMs);
  }

  /** Newest model first. */
  snapshot(): ModelUsage[] {
    const round = (ms: number): number => Math.round(ms * 1000) / 1000;
    return [...this.models.values()].reverse().map((a) => ({
      name: a.model.name,
      description: a.model.description,
      url: a.model.url,
      slot: a.model.slot,
      version: a.model.version,
      since: a.model.since.toISOString(),
      until: a.until ? a.until.toISOString() : null,
      count: a.count,
      scored: a.byOutcome.scored,
      fallbacks: a.byOutcome.fallback,
      errors: a.byOutcome.error,
      meanLatencyMs: a.count ? round(a.totalMs / a.count) : null,
      minLatencyMs: a.count ? round(a.minMs) : null,
      maxLatencyMs: a.count ? round(a.maxMs) : null,
    }));
  }
}
