/**
 * The batch definition of the online figures (docs/design.md, "Quality
 * out"): a plain function over every record of each partition of the three
 * topics, in offset order, with unbounded memory and no watermark — what
 * the streaming evaluator (join-state.ts) must equal, count for count,
 * however the topics interleave and however often it restarts. A shadow
 * batch record is its valid entries, in array order, at its place in the
 * offset order (records.ts, decodeShadowAnswers): `shadows` holds answers,
 * not records.
 *
 * Per partition:
 *  1. take records: a record is late when its event time is more than the
 *     grace before the largest event time before it in its topic-partition;
 *     a duplicate when an earlier taken record has the same id (requestId;
 *     requestId and shadow kind; purchase id) and an event time at or after
 *     that mark;
 *  2. every taken result is a request of its version (slot/version); a
 *     taken shadow answer belongs to the taken result with the same request
 *     id and event time (the first of each kind);
 *  3. a taken purchase of customer u at t is final when t is before the
 *     results' final mark and at or before the purchases' final mark; a
 *     final purchase is attributed to u's taken request with the latest
 *     event time in [t − window, t] (ties: the larger request id);
 *  4. it is a hit when one of its products is in that request's first 10,
 *     and for each shadow answer of the request a pair (model hit, shadow
 *     hit); its products are repeat when u bought them in a taken purchase
 *     in [t − horizon, t), new otherwise.
 */
import { countFollowed, countShadow } from './attribution';
import { emptyVersion, mergeFigures, type Figures } from './figures';
import { boughtBefore, latestRequest, type JoinRules, type PurchaseCounts, type RequestEntry } from './join-state';
import { requestKey, versionLabel, type BoughtBasket, type ServedRequest, type ShadowAnswer } from './records';

export interface PartitionRecords {
  results: ServedRequest[];
  /** every shadow answer: single records, and batch records' valid entries in array order, in offset order */
  shadows: ShadowAnswer[];
  purchases: BoughtBasket[];
}

export interface BatchFigures {
  figures: Figures;
  purchases: PurchaseCounts;
}

/** Step 1: the records taken from one topic-partition, and the final mark (largest event time − grace). */
export function takenRecords<T extends { eventTime: number }>(
  records: readonly T[],
  idOf: (r: T) => string,
  graceMs: number,
): { taken: T[]; mark: number } {
  let front = -Infinity;
  const times = new Map<string, number[]>();
  const taken: T[] = [];
  for (const r of records) {
    const mark = front - graceMs;
    if (r.eventTime < mark) continue;
    const id = idOf(r);
    const earlier = times.get(id) ?? [];
    if (earlier.some((t) => t >= mark)) continue;
    times.set(id, [...earlier, r.eventTime]);
    taken.push(r);
    front = Math.max(front, r.eventTime);
  }
  return { taken, mark: front - graceMs };
}

function groupByUser<T extends { user: number }>(items: readonly T[]): Map<number, T[]> {
  const m = new Map<number, T[]>();
  for (const i of items) {
    const list = m.get(i.user);
    if (list) list.push(i);
    else m.set(i.user, [i]);
  }
  return m;
}

/** Steps 2–4 for one partition. */
function partitionFigures(p: PartitionRecords, rules: JoinRules): BatchFigures {
  const g = rules.graceMs;
  const results = takenRecords(p.results, (r) => r.requestId, g);
  const shadows = takenRecords(p.shadows, (s) => `${s.requestId}|${s.shadow}`, g);
  const purchases = takenRecords(p.purchases, (b) => b.id, g);
  const figures: Figures = {};
  const requests = new Map<string, RequestEntry>();
  for (const r of results.taken) {
    const label = versionLabel(r.slot, r.version);
    (figures[label] ??= emptyVersion(r.slot, r.version)).requests++;
    const key = requestKey(r.requestId, r.eventTime);
    requests.set(key, { key, user: r.user, eventTime: r.eventTime, requestId: r.requestId, label, top: r.top, shadows: {}, bought: [] });
  }
  for (const s of shadows.taken) {
    const entry = requests.get(requestKey(s.requestId, s.eventTime));
    if (entry) countShadow(figures[entry.label], entry, s.shadow, s.top);
  }
  const requestsOf = groupByUser([...requests.values()]);
  const historyOf = groupByUser(purchases.taken);
  const counts: PurchaseCounts = { attributed: 0, unattributed: 0 };
  for (const b of purchases.taken) {
    if (!(b.eventTime < results.mark && b.eventTime <= purchases.mark)) continue;
    const entry = latestRequest(requestsOf.get(b.user) ?? [], b.eventTime, rules.windowMs);
    if (!entry) {
      counts.unattributed++;
      continue;
    }
    counts.attributed++;
    countFollowed(figures[entry.label], entry, b.products, boughtBefore(historyOf.get(b.user) ?? [], b.eventTime, rules.repeatHorizonMs));
  }
  return { figures, purchases: counts };
}

/** The figures of every partition, added up per version. */
export function batchFigures(partitions: readonly PartitionRecords[], rules: JoinRules): BatchFigures {
  const total: BatchFigures = { figures: {}, purchases: { attributed: 0, unattributed: 0 } };
  for (const p of partitions) {
    const f = partitionFigures(p, rules);
    mergeFigures(total.figures, f.figures);
    total.purchases.attributed += f.purchases.attributed;
    total.purchases.unattributed += f.purchases.unattributed;
  }
  return total;
}
