/**
 * Served requests, shadow answers and purchases made deterministically from
 * lines of the seed's real transactions.csv (the model server's side of
 * "Quality out" lands separately): line n is a purchase at T0 + n·gap,
 * preceded by a served request of the same customer 1 ms before (as
 * src/cli/replay.ts sends them). The served "model" ranks the customer's
 * own earlier products first, then a fixed popularity; the popularity
 * shadow ranks by that fixed popularity; every 10th request has a
 * previous-model shadow (popularity of an earlier slice). Every 7th line's
 * records are sent twice (at-least-once), every 13th customer also visits
 * without buying, and the two model versions split the slice. From line
 * `batchFrom` on (an upgraded model server) the shadows go in batch records
 * (schema 2) built as the model server builds them, every 40 requests.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Message } from 'kafkajs';
import { encodeResult, type RecommendationResult } from '../../src/messaging/result';
import { encodePurchase } from '../../src/messaging/schemas';
import { encodeShadow, type ShadowKind } from '../../src/messaging/shadow-result';
import { shadowBatchMessages, type PendingShadow } from '../../src/serving/model-server/shadow-batches';

export const SEED_LINES = fs.readFileSync(path.resolve(__dirname, '../../data/seed/transactions.csv'), 'utf8').trimEnd().split('\n');
export const T0 = Date.UTC(2026, 0, 1);

export interface Traffic {
  results: Message[];
  shadows: Message[];
  purchases: Message[];
}

function parseLine(n: number): { user: number; products: number[] } {
  const [user, products] = SEED_LINES[n].split(',');
  return { user: Number(user), products: products.split('|').map(Number) };
}

/** The 10 most bought products of lines [from, to), ties by id. */
export function popularity(from: number, to: number): number[] {
  const counts = new Map<number, number>();
  for (let n = from; n < to; n++) for (const p of parseLine(n).products) counts.set(p, (counts.get(p) ?? 0) + 1);
  return [...counts]
    .sort((a, b) => b[1] - a[1] || a[0] - b[0])
    .slice(0, 10)
    .map(([p]) => p);
}

const ranked = (products: number[]) => products.map((product, i) => ({ product, score: 10 - i }));

function result(requestId: string, user: number, top: number[], version: number, eventTime: number): RecommendationResult {
  const slot = version % 2 === 1 ? 'recommender' : 'recommender1';
  return {
    schema: 1,
    requestId,
    source: { topic: 'mdata', partition: 0, offset: requestId.split(':')[2] },
    user,
    model: { name: slot, slot, version, url: `http://127.0.0.1:8501/v1/models/${slot}/versions/${version}:predict` },
    latencyMs: 1,
    requestTimestamp: eventTime + 5,
    servedAt: new Date(eventTime + 5).toISOString(),
    outcome: 'scored',
    fallback: null,
    ranked: ranked(top),
    // the visit's time; every 5th left out (an older server's record): requestTimestamp stands in
    ...(Number(requestId.split(':')[2]) % 5 !== 0 && { eventTime }),
  } as RecommendationResult;
}

function pendingShadow(
  requestId: string,
  user: number,
  kind: ShadowKind,
  top: number[],
  version: number,
  eventTime: number,
): PendingShadow {
  const slotVersion = { slot: 'recommender', version };
  return { shadow: kind, servedBy: slotVersion, model: slotVersion, entry: { requestId, user, eventTime, products: top } };
}

function shadow(requestId: string, user: number, kind: ShadowKind, top: number[], version: number, eventTime: number): Message {
  const slotVersion = { slot: 'recommender', version };
  const body = {
    schema: 1,
    requestId,
    user,
    shadow: kind,
    servedBy: slotVersion,
    model: slotVersion,
    ranked: ranked(top),
    eventTime,
    producedAt: new Date(eventTime).toISOString(),
  } as const;
  return { key: String(user), value: encodeShadow(body) };
}

export interface BatchedShadows {
  /** the first line whose shadows go in batch records */
  batchFrom: number;
  /** the shadow topic's partition count (a batch record's customers are of its partition) */
  partitions: number;
}

/** The traffic of lines [from, to), `gapMs` apart in event time. */
export function seedTraffic(from: number, to: number, gapMs = 60_000, batched?: BatchedShadows): Traffic {
  const popular = popularity(1, from);
  const previous = popularity(1, Math.max(2, Math.floor(from / 2)));
  const bought = new Map<number, number[]>();
  const t: Traffic = { results: [], shadows: [], purchases: [] };
  const version = (n: number) => (n < (from + to) / 2 ? 1 : 2);
  let offset = 0;
  let pending: PendingShadow[] = [];
  const flush = () => {
    if (batched && pending.length > 0) t.shadows.push(...shadowBatchMessages(pending, batched.partitions, new Date(T0)));
    pending = [];
  };
  const serve = (user: number, at: number, n: number, twice: boolean) => {
    const requestId = `mdata:0:${offset++}`;
    const own = [...new Set(bought.get(user) ?? [])].slice(-5);
    const top = [...own, ...popular.filter((p) => !own.includes(p))].slice(0, 10);
    const r = { key: String(user), value: encodeResult(result(requestId, user, top, version(n), at)) };
    const eventTime = offset % 5 === 1 ? at + 5 : at; // requestTimestamp stands in when eventTime is absent
    const s = [pendingShadow(requestId, user, 'popularity', popular, version(n), eventTime)];
    if (n % 10 === 0) s.push(pendingShadow(requestId, user, 'previous-model', previous, version(n) - 1, eventTime));
    const inBatches = batched !== undefined && n >= batched.batchFrom;
    for (let copies = twice ? 2 : 1; copies > 0; copies--) {
      t.results.push(r);
      if (inBatches) pending.push(...s);
      else t.shadows.push(...s.map((x) => shadow(x.entry.requestId, user, x.shadow, x.entry.products, x.model.version!, eventTime)));
    }
    if (pending.length >= 40) flush();
  };
  for (let n = from; n < to; n++) {
    const { user, products } = parseLine(n);
    const at = T0 + (n - from) * gapMs;
    if (n % 13 === 0) serve((user + 1) % 5000, at - 30_000, n, false); // a visit without a purchase
    serve(user, at - 1, n, n % 7 === 0);
    const p = { key: String(user), value: encodePurchase({ user, products, timeMs: at, id: `line-${n}` }) };
    t.purchases.push(...(n % 7 === 0 ? [p, p] : [p]));
    bought.set(user, [...(bought.get(user) ?? []), ...products]);
  }
  flush();
  return t;
}
