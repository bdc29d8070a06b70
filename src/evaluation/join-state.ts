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

export interface Bought {
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
  idle?: IdleAdvances;
}

/** The idle advances of a partition (docs/design.md, "Quality out", idle partitions): the last one's mark and how many there were. */
export interface IdleAdvances {
  mark: number;
  advances: number;
}

/** The small part of a snapshot: the fronts, figures and counts (a checkpoint's head). */
export interface JoinSummary {
  fronts: Record<TopicRole, { front: number | null }>;
  figures: Figures;
  records: Record<TopicRole, RecordCounts>;
  purchases: PurchaseCounts;
  /** absent: never advanced (and in checkpoints written before idle advances existed) */
  idle?: IdleAdvances;
}

/** The entries of the state at some event times (a checkpoint's state chunk): a snapshot is a summary and its entries. */
export interface StateEntries {
  requests: RequestEntry[];
  waitingShadows: ShadowAnswer[];
  pending: BoughtBasket[];
  history: Bought[];
  seen: Record<TopicRole, [string, number][]>;
}

export const emptyEntries = (): StateEntries => ({
  requests: [],
  waitingShadows: [],
  pending: [],
  history: [],
  seen: { results: [], shadows: [], purchases: [] },
});

/** The granularity at which the join reports changed event times (a state chunk's bounds are multiples of it). */
export const TOUCH_MS = 1000;

const byTime = <T extends { eventTime: number }>(a: T, b: T) => a.eventTime < b.eventTime;
const zeroCounts = (): RecordCounts => ({ taken: 0, late: 0, duplicate: 0, invalid: 0 });

export class PartitionJoin {
  readonly intake: Record<TopicRole, StreamIntake>;
  figures: Figures = {};
  records: Record<TopicRole, RecordCounts> = { results: zeroCounts(), shadows: zeroCounts(), purchases: zeroCounts() };
  purchases: PurchaseCounts = { attributed: 0, unattributed: 0 };
  idle?: IdleAdvances;
  private readonly requests = new Map<string, RequestEntry>();
  private readonly requestsByUser = new Map<number, RequestEntry[]>();
  private readonly requestQueue = new MinHeap<RequestEntry>(byTime);
  private readonly waiting = new Map<string, ShadowAnswer[]>();
  private readonly waitingQueue = new MinHeap<ShadowAnswer>(byTime);
  private readonly pending = new MinHeap<BoughtBasket>(byTime);
  private readonly history = new Map<number, Bought[]>();
  private readonly historyQueue = new MinHeap<Bought>(byTime);
  /** the seconds (event time / TOUCH_MS) whose entries changed since takeTouched: what an incremental checkpoint rewrites */
  private touched = new Set<number>();
  private readonly touch = (t: number): void => void this.touched.add(Math.floor(t / TOUCH_MS));

  constructor(readonly rules: JoinRules) {
    const g = rules.graceMs;
    const t = this.touch;
    this.intake = { results: new StreamIntake(g, t), shadows: new StreamIntake(g, t), purchases: new StreamIntake(g, t) };
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
    const waiting = this.waiting.get(key);
    if (waiting) {
      for (const s of waiting) countShadow(fig, entry, s.shadow, s.top);
      this.waiting.delete(key); // the queue's copies are dropped when the results' mark passes them
    }
    this.advance();
  }

  shadow(s: ShadowAnswer): void {
    if (!this.take('shadows', `${s.requestId}|${s.shadow}`, s.eventTime)) return;
    const key = requestKey(s.requestId, s.eventTime);
    const entry = this.requests.get(key);
    this.touch(s.eventTime); // the request's time (the key's) or the waiting answer's
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
    this.pending.push(p); // touched by remember: the same time
    this.advance();
  }

  private addRequest(entry: RequestEntry): void {
    this.requests.set(entry.key, entry);
    const list = this.requestsByUser.get(entry.user);
    if (list) list.push(entry);
    else this.requestsByUser.set(entry.user, [entry]);
    this.requestQueue.push(entry);
    this.touch(entry.eventTime);
  }

  private remember(b: Bought): void {
    const list = this.history.get(b.user);
    if (list) list.push(b);
    else this.history.set(b.user, [b]);
    this.historyQueue.push(b);
    this.touch(b.eventTime);
  }

  /**
   * The idle advance (the caller saw the partition's three topics caught up
   * and quiet): with a purchase waiting, every topic's mark moves to just
   * past the newest event time taken on any of them, so each waiting
   * purchase is final; a record that comes later at or before that time is
   * late. Returns the new mark, or undefined when nothing waits.
   */
  idleAdvance(): number | undefined {
    if (this.pending.size === 0) return undefined;
    const mark = Math.max(...TOPIC_ROLES.map((role) => this.intake[role].front ?? -Infinity)) + 1;
    this.idle = { mark, advances: (this.idle?.advances ?? 0) + 1 };
    for (const role of TOPIC_ROLES) this.intake[role].floor = mark;
    this.advance();
    return mark;
  }

  /** Finalises the purchases that can be, then forgets what no record to come can need. */
  private advance(): void {
    const resultsMark = this.intake.results.mark;
    const purchasesMark = this.intake.purchases.mark;
    for (let p = this.pending.peek(); p && p.eventTime < resultsMark && p.eventTime <= purchasesMark; p = this.pending.peek()) {
      this.touch(p.eventTime);
      this.finalise(this.pending.pop()!);
    }
    const bound = Math.min(purchasesMark, this.pending.peek()?.eventTime ?? Infinity);
    const shadowsMark = this.intake.shadows.mark;
    const w = this.rules.windowMs;
    for (let r = this.requestQueue.peek(); r && r.eventTime + w < bound && r.eventTime < shadowsMark; r = this.requestQueue.peek()) {
      this.forgetRequest(this.requestQueue.pop()!);
    }
    for (let s = this.waitingQueue.peek(); s && s.eventTime < resultsMark; s = this.waitingQueue.peek()) {
      this.touch(s.eventTime);
      this.waiting.delete(requestKey(this.waitingQueue.pop()!.requestId, s.eventTime));
    }
    const h = this.rules.repeatHorizonMs;
    for (let b = this.historyQueue.peek(); b && b.eventTime + h < bound; b = this.historyQueue.peek()) {
      this.historyQueue.pop();
      this.touch(b.eventTime);
      const list = this.history.get(b.user)!;
      list.splice(list.indexOf(b), 1);
      if (list.length === 0) this.history.delete(b.user);
    }
  }

  private forgetRequest(entry: RequestEntry): void {
    this.touch(entry.eventTime);
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
    this.touch(entry.eventTime);
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
      ...(this.idle && { idle: { ...this.idle } }),
    };
  }

  static restore(rules: JoinRules, s: JoinSnapshot): PartitionJoin {
    const seen = { results: s.fronts.results.seen, shadows: s.fronts.shadows.seen, purchases: s.fronts.purchases.seen };
    return PartitionJoin.restoreParts(rules, s, [{ ...s, seen }]);
  }

  /** The fronts, figures and counts: a checkpoint's head (the entries go into its state chunks). */
  summary(): JoinSummary {
    const front = (role: TopicRole) => ({ front: this.intake[role].front });
    return {
      fronts: { results: front('results'), shadows: front('shadows'), purchases: front('purchases') },
      figures: this.figures,
      records: this.records,
      purchases: this.purchases,
      ...(this.idle && { idle: { ...this.idle } }),
    };
  }

  /** The seconds whose entries changed since the last call (see TOUCH_MS). */
  takeTouched(): Set<number> {
    const t = this.touched;
    this.touched = new Set();
    return t;
  }

  /** Gives back seconds taken by takeTouched (their checkpoint failed: they are still to write). */
  retouch(seconds: Iterable<number>): void {
    for (const s of seconds) this.touched.add(s);
  }

  /**
   * The entries whose event time `chunkOf` maps to a chunk (an index ≥ 0),
   * by chunk; −1 skips the entry. One pass over the state.
   */
  collect(chunkOf: (t: number) => number): Map<number, StateEntries> {
    const out = new Map<number, StateEntries>();
    const into = (t: number): StateEntries | undefined => {
      const i = chunkOf(t);
      if (i < 0) return undefined;
      let e = out.get(i);
      if (!e) out.set(i, (e = emptyEntries()));
      return e;
    };
    for (const r of this.requests.values()) into(r.eventTime)?.requests.push(r);
    for (const list of this.waiting.values()) for (const w of list) into(w.eventTime)?.waitingShadows.push(w);
    for (const p of this.pending.toArray()) into(p.eventTime)?.pending.push(p);
    for (const list of this.history.values()) for (const b of list) into(b.eventTime)?.history.push(b);
    for (const role of TOPIC_ROLES) for (const [id, t] of this.intake[role].remembering()) into(t)?.seen[role].push([id, t]);
    return out;
  }

  /** A join from a checkpoint's head and its state chunks (each entry in exactly one part). */
  static restoreParts(rules: JoinRules, summary: JoinSummary, parts: readonly StateEntries[]): PartitionJoin {
    const j = new PartitionJoin(rules);
    for (const role of TOPIC_ROLES) {
      j.intake[role] = StreamIntake.restore(rules.graceMs, { front: summary.fronts[role].front, seen: [] }, j.touch);
      for (const part of parts) {
        j.intake[role].remember(part.seen[role]);
        for (const [, t] of part.seen[role]) j.touch(t);
      }
    }
    for (const part of parts) {
      for (const entry of part.requests) j.addRequest({ ...entry, key: requestKey(entry.requestId, entry.eventTime) });
      for (const w of part.waitingShadows) {
        const key = requestKey(w.requestId, w.eventTime);
        const list = j.waiting.get(key);
        if (list) list.push(w);
        else j.waiting.set(key, [w]);
        j.waitingQueue.push(w);
      }
      for (const p of part.pending) j.pending.push(p);
      for (const b of part.history) j.remember(b);
    }
    j.figures = summary.figures;
    j.records = summary.records;
    j.purchases = summary.purchases;
    if (summary.idle) {
      j.idle = { ...summary.idle };
      for (const role of TOPIC_ROLES) j.intake[role].floor = summary.idle.mark;
    }
    // every restored entry counts as changed: a restore from state chunks that hold them drops that with takeTouched
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
