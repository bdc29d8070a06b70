/**
 * The streaming join of one partition (the same partition number of the
 * three co-partitioned topics): served requests, shadow answers and
 * purchases in, figures out, with state bounded by the window
 * (docs/design.md, "Quality out", for the rule and the bound).
 *
 * A purchase (customer u, event time t) is final once no record that could
 * change its count can still come: t < the results' mark (every request of
 * u at or before t has come) and t ≤ the purchases' mark (every earlier
 * purchase of u has come, for the repeat rule). A request stays while a
 * purchase may still be attributed to it or a shadow answer may still come
 * for it; a purchase stays in the repeat memory while a later purchase may
 * still look back at it.
 */
import type { ShadowKind } from '../messaging/shadow-result';
import { MinHeap } from '../store/min-heap';
import { countFollowed, countShadow, type AttributedPurchase } from './attribution';
import { emptyVersion, type Figures } from './figures';
import { StreamIntake, type FrontSnapshot, type Verdict } from './intake';
import { requestKey, versionLabel, type BoughtBasket, type ServedRequest, type ShadowAnswer } from './records';

export interface JoinRules {
  windowMs: number;
  graceMs: number;
  repeatHorizonMs: number;
}

export const TOPIC_ROLES = ['results', 'shadows', 'purchases'] as const;
export type TopicRole = (typeof TOPIC_ROLES)[number];

export interface RecordCounts {
  taken: number;
  late: number;
  duplicate: number;
  invalid: number;
}

/** What happened to purchases: final and attributed, final without a request in the window, or still waiting. */
export interface PurchaseCounts {
  attributed: number;
  unattributed: number;
}

export interface RequestEntry {
  key: string;
  user: number;
  eventTime: number;
  requestId: string;
  label: string;
  top: number[];
  shadows: Partial<Record<ShadowKind, number[]>>;
  bought: AttributedPurchase[];
}

interface Bought {
  user: number;
  eventTime: number;
  products: number[];
}

/** Everything needed to resume a partition's join exactly where a checkpoint left it. */
export interface JoinSnapshot {
  fronts: Record<TopicRole, FrontSnapshot>;
  requests: RequestEntry[];
  waitingShadows: ShadowAnswer[];
  pending: BoughtBasket[];
  history: Bought[];
  figures: Figures;
  records: Record<TopicRole, RecordCounts>;
  purchases: PurchaseCounts;
}

const byTime = <T extends { eventTime: number }>(a: T, b: T) => a.eventTime < b.eventTime;
const zeroCounts = (): RecordCounts => ({ taken: 0, late: 0, duplicate: 0, invalid: 0 });

export class PartitionJoin {
  readonly intake: Record<TopicRole, StreamIntake>;
  figures: Figures = {};
  records: Record<TopicRole, RecordCounts> = { results: zeroCounts(), shadows: zeroCounts(), purchases: zeroCounts() };
  purchases: PurchaseCounts = { attributed: 0, unattributed: 0 };
  private readonly requests = new Map<string, RequestEntry>();
  private readonly requestsByUser = new Map<number, RequestEntry[]>();
  private readonly requestQueue = new MinHeap<RequestEntry>(byTime);
  private readonly waiting = new Map<string, ShadowAnswer[]>();
  private readonly waitingQueue = new MinHeap<ShadowAnswer>(byTime);
  private readonly pending = new MinHeap<BoughtBasket>(byTime);
  private readonly history = new Map<number, Bought[]>();
  private readonly historyQueue = new MinHeap<Bought>(byTime);

  constructor(readonly rules: JoinRules) {
    const g = rules.graceMs;
    this.intake = { results: new StreamIntake(g), shadows: new StreamIntake(g), purchases: new StreamIntake(g) };
  }

  /** Counts a record that could not be decoded. */
  invalid(role: TopicRole): void {
    this.records[role].invalid++;
  }

  private take(role: TopicRole, id: string, eventTime: number): boolean {
    const verdict: Verdict = this.intake[role].take(id, eventTime);
    this.records[role][verdict]++;
    return verdict === 'taken';
  }

  served(r: ServedRequest): void {
    if (!this.take('results', r.requestId, r.eventTime)) return;
    const label = versionLabel(r.slot, r.version);
    const fig = (this.figures[label] ??= emptyVersion(r.slot, r.version));
    fig.requests++;
    const key = requestKey(r.requestId, r.eventTime);
    const entry: RequestEntry = {
      key,
      user: r.user,
      eventTime: r.eventTime,
      requestId: r.requestId,
      label,
      top: r.top,
      shadows: {},
      bought: [],
    };
    this.addRequest(entry);
    for (const s of this.waiting.get(key) ?? []) countShadow(fig, entry, s.shadow, s.top);
    this.waiting.delete(key);
    this.advance();
  }

  shadow(s: ShadowAnswer): void {
    if (!this.take('shadows', `${s.requestId}|${s.shadow}`, s.eventTime)) return;
    const key = requestKey(s.requestId, s.eventTime);
    const entry = this.requests.get(key);
    if (entry) countShadow(this.figures[entry.label], entry, s.shadow, s.top);
    else {
      const list = this.waiting.get(key);
      if (list) list.push(s);
      else this.waiting.set(key, [s]);
      this.waitingQueue.push(s);
    }
    this.advance();
  }

  purchase(p: BoughtBasket): void {
    if (!this.take('purchases', p.id, p.eventTime)) return;
    this.remember({ user: p.user, eventTime: p.eventTime, products: p.products });
    this.pending.push(p);
    this.advance();
  }

  private addRequest(entry: RequestEntry): void {
    this.requests.set(entry.key, entry);
    const list = this.requestsByUser.get(entry.user);
    if (list) list.push(entry);
    else this.requestsByUser.set(entry.user, [entry]);
    this.requestQueue.push(entry);
  }

  private remember(b: Bought): void {
    const list = this.history.get(b.user);
    if (list) list.push(b);
    else this.history.set(b.user, [b]);
    this.historyQueue.push(b);
  }

  /** Finalises the purchases that can be, then forgets what no record to come can need. */
  private advance(): void {
    const resultsMark = this.intake.results.mark;
    const purchasesMark = this.intake.purchases.mark;
    for (let p = this.pending.peek(); p && p.eventTime < resultsMark && p.eventTime <= purchasesMark; p = this.pending.peek()) {
      this.finalise(this.pending.pop()!);
    }
    const bound = Math.min(purchasesMark, this.pending.peek()?.eventTime ?? Infinity);
    const shadowsMark = this.intake.shadows.mark;
    const w = this.rules.windowMs;
    for (let r = this.requestQueue.peek(); r && r.eventTime + w < bound && r.eventTime < shadowsMark; r = this.requestQueue.peek()) {
      this.forgetRequest(this.requestQueue.pop()!);
    }
    for (let s = this.waitingQueue.peek(); s && s.eventTime < resultsMark; s = this.waitingQueue.peek()) {
      this.waiting.delete(requestKey(this.waitingQueue.pop()!.requestId, s.eventTime));
    }
    const h = this.rules.repeatHorizonMs;
    for (let b = this.historyQueue.peek(); b && b.eventTime + h < bound; b = this.historyQueue.peek()) {
      this.historyQueue.pop();
      const list = this.history.get(b.user)!;
      list.splice(list.indexOf(b), 1);
      if (list.length === 0) this.history.delete(b.user);
    }
  }

  private forgetRequest(entry: RequestEntry): void {
    this.requests.delete(entry.key);
    const list = this.requestsByUser.get(entry.user)!;
    list.splice(list.indexOf(entry), 1);
    if (list.length === 0) this.requestsByUser.delete(entry.user);
  }

  private finalise(p: BoughtBasket): void {
    const entry = latestRequest(this.requestsByUser.get(p.user) ?? [], p.eventTime, this.rules.windowMs);
    if (!entry) {
      this.purchases.unattributed++;
      return;
    }
    this.purchases.attributed++;
    const before = boughtBefore(this.history.get(p.user) ?? [], p.eventTime, this.rules.repeatHorizonMs);
    countFollowed(this.figures[entry.label], entry, p.products, before);
  }

  /** Sizes of the retained state (the bound of docs/design.md), for /metrics. */
  sizes(): { requests: number; waitingShadows: number; pending: number; history: number; dedup: number } {
    const dedup = TOPIC_ROLES.reduce((n, role) => n + this.intake[role].remembered, 0);
    return {
      requests: this.requests.size,
      waitingShadows: this.waitingQueue.size,
      pending: this.pending.size,
      history: this.historyQueue.size,
      dedup,
    };
  }

  snapshot(): JoinSnapshot {
    return {
      fronts: {
        results: this.intake.results.snapshot(),
        shadows: this.intake.shadows.snapshot(),
        purchases: this.intake.purchases.snapshot(),
      },
      requests: [...this.requests.values()],
      waitingShadows: [...this.waiting.values()].flat(),
      pending: this.pending.toArray(),
      history: [...this.history.values()].flat(),
      figures: this.figures,
      records: this.records,
      purchases: this.purchases,
    };
  }

  static restore(rules: JoinRules, s: JoinSnapshot): PartitionJoin {
    const j = new PartitionJoin(rules);
    for (const role of TOPIC_ROLES) j.intake[role] = StreamIntake.restore(rules.graceMs, s.fronts[role]);
    for (const entry of s.requests) j.addRequest(entry);
    for (const w of s.waitingShadows) {
      const key = requestKey(w.requestId, w.eventTime);
      j.waiting.set(key, [...(j.waiting.get(key) ?? []), w]);
      j.waitingQueue.push(w);
    }
    for (const p of s.pending) j.pending.push(p);
    for (const b of s.history) j.remember(b);
    j.figures = s.figures;
    j.records = s.records;
    j.purchases = s.purchases;
    return j;
  }
}

/** The customer's request with the latest event time in [t − window, t] (ties: the larger request id). */
export function latestRequest<R extends { eventTime: number; requestId: string }>(
  requests: readonly R[],
  t: number,
  windowMs: number,
): R | undefined {
  let best: R | undefined;
  for (const r of requests) {
    if (r.eventTime > t || r.eventTime < t - windowMs) continue;
    if (!best || r.eventTime > best.eventTime || (r.eventTime === best.eventTime && r.requestId > best.requestId)) best = r;
  }
  return best;
}

/** The products of the customer's purchases in [t − horizon, t). */
export function boughtBefore(purchases: readonly { eventTime: number; products: number[] }[], t: number, horizonMs: number): Set<number> {
  const before = new Set<number>();
  for (const b of purchases) if (b.eventTime < t && b.eventTime >= t - horizonMs) for (const p of b.products) before.add(p);
  return before;
}
