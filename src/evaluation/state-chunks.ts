/**
 * The state chunks of an incremental checkpoint (docs/design.md, "Quality
 * out", crash safety): a partition's join state split by event time into
 * contiguous ranges, each range's entries one immutable object. A
 * checkpoint rewrites — under new keys — only the chunks whose range holds
 * a changed entry (PartitionJoin.takeTouched), splits a chunk grown past
 * twice CHUNK_TARGET entries and drops an emptied one; the others stay as they are.
 * Under a flood the newest range changes and is split off in pieces as it
 * grows, while the old ones change only as their entries expire: a
 * checkpoint writes about what came since the last one, not the window.
 *
 * A chunk is compact JSON: tuples instead of objects, no derived keys.
 */
import type { AttributedPurchase } from './attribution';
import { emptyEntries, TOPIC_ROLES, TOUCH_MS, type Bought, type PartitionJoin, type RequestEntry, type StateEntries } from './join-state';
import type { BoughtBasket, ShadowAnswer } from './records';

export interface ChunkRef {
  /** the object holding the range's entries */
  key: string;
  /** where the range begins (event time; null: −∞, the first chunk); it ends where the next chunk's begins */
  from: number | null;
  /** entries it holds */
  entries: number;
}

/** Entries per chunk after a split; a chunk is split when a checkpoint finds it above twice that. */
export const CHUNK_TARGET = 20_000;
const CHUNK_SCHEMA = 2;

/** The chunk whose range holds t (chunks in order of `from`, the first from −∞). */
export function chunkAt(chunks: readonly { from: number | null }[], t: number): number {
  let lo = 0;
  let hi = chunks.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((chunks[mid].from ?? -Infinity) <= t) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

export interface ChunkPlan {
  /** the chunk list of the next head */
  chunks: ChunkRef[];
  /** the new objects, to be written before the head that lists them */
  bodies: { key: string; body: Buffer }[];
  /** the old list's objects that the new one no longer lists (garbage once the head is written) */
  replaced: string[];
}

function times(e: StateEntries): number[] {
  const t: number[] = [];
  for (const x of [e.requests, e.waitingShadows, e.pending, e.history]) for (const y of x) t.push(y.eventTime);
  for (const role of TOPIC_ROLES) for (const [, at] of e.seen[role]) t.push(at);
  return t;
}

/** Splits a range's entries into pieces of about CHUNK_TARGET at whole TOUCH_MS bounds (entries of one second stay together). */
function split(e: StateEntries, from: number | null, target: number): { from: number | null; entries: StateEntries; n: number }[] {
  const all = times(e);
  if (all.length <= 2 * target) return [{ from, entries: e, n: all.length }];
  all.sort((a, b) => a - b);
  const pieces: { from: number | null; entries: StateEntries; n: number }[] = [{ from, entries: emptyEntries(), n: 0 }];
  for (let k = target; k < all.length; k += target) {
    const bound = Math.floor(all[k] / TOUCH_MS) * TOUCH_MS;
    if (bound > (pieces.at(-1)!.from ?? -Infinity)) pieces.push({ from: bound, entries: emptyEntries(), n: 0 });
  }
  const to = (t: number) => {
    const p = pieces[chunkAt(pieces, t)];
    p.n++;
    return p.entries;
  };
  for (const r of e.requests) to(r.eventTime).requests.push(r);
  for (const w of e.waitingShadows) to(w.eventTime).waitingShadows.push(w);
  for (const p of e.pending) to(p.eventTime).pending.push(p);
  for (const b of e.history) to(b.eventTime).history.push(b);
  for (const role of TOPIC_ROLES) for (const s of e.seen[role]) to(s[1]).seen[role].push(s);
  return pieces;
}

/**
 * The next chunk list: the chunks holding a touched second are rewritten
 * from the join's current entries (split when large, dropped when empty),
 * the others kept. Synchronous: the bodies are the state of this instant.
 */
export function planChunks(
  join: PartitionJoin,
  old: readonly ChunkRef[],
  touched: ReadonlySet<number>,
  newKey: () => string,
  target = CHUNK_TARGET,
): ChunkPlan {
  const base: readonly ChunkRef[] = old.length > 0 ? old : [{ key: '', from: null, entries: 0 }];
  const dirty = new Set<number>();
  for (const s of touched) dirty.add(chunkAt(base, s * TOUCH_MS));
  if (dirty.size === 0) return { chunks: [...old], bodies: [], replaced: [] };
  const parts = join.collect((t) => {
    const i = chunkAt(base, t);
    return dirty.has(i) ? i : -1;
  });
  const plan: ChunkPlan = { chunks: [], bodies: [], replaced: [] };
  base.forEach((ref, i) => {
    if (!dirty.has(i)) return void plan.chunks.push(ref);
    if (ref.key) plan.replaced.push(ref.key);
    const entries = parts.get(i);
    if (!entries) return; // emptied: its range joins the previous chunk's
    for (const piece of split(entries, ref.from, target)) {
      const key = newKey();
      plan.bodies.push({ key, body: encodeChunk(piece.entries) });
      plan.chunks.push({ key, from: piece.from, entries: piece.n });
    }
  });
  if (plan.chunks.length > 0 && plan.chunks[0].from !== null) plan.chunks[0] = { ...plan.chunks[0], from: null };
  return plan;
}

type RequestTuple = [string, number, number, string, number[], RequestEntry['shadows'], [number[], 0 | 1][]];

export function encodeChunk(e: StateEntries): Buffer {
  const requests: RequestTuple[] = e.requests.map((r) => [
    r.requestId,
    r.user,
    r.eventTime,
    r.label,
    r.top,
    r.shadows,
    r.bought.map((b) => [b.products, b.modelHit ? 1 : 0]),
  ]);
  return Buffer.from(
    JSON.stringify({
      schema: CHUNK_SCHEMA,
      requests,
      waiting: e.waitingShadows.map((w) => [w.requestId, w.shadow, w.eventTime, w.top]),
      pending: e.pending.map((p) => [p.id, p.user, p.eventTime, p.products]),
      history: e.history.map((b) => [b.user, b.eventTime, b.products]),
      seen: e.seen,
    }),
  );
}

interface ChunkDoc {
  schema: number;
  requests: RequestTuple[];
  waiting: [string, ShadowAnswer['shadow'], number, number[]][];
  pending: [string, number, number, number[]][];
  history: [number, number, number[]][];
  seen: Record<string, [string, number][]>;
}

/** A chunk's entries; an object that is not one is an error naming `where` and what is wrong. */
export function decodeChunk(body: Buffer, where: string): StateEntries {
  let doc: ChunkDoc;
  try {
    doc = JSON.parse(body.toString('utf8')) as ChunkDoc;
  } catch (err) {
    throw new Error(`${where} is not valid JSON: ${(err as Error).message}`);
  }
  if (doc?.schema !== CHUNK_SCHEMA)
    throw new Error(`${where}: not a state chunk of schema ${CHUNK_SCHEMA} (schema ${JSON.stringify(doc?.schema)})`);
  for (const field of ['requests', 'waiting', 'pending', 'history'] as const)
    if (!Array.isArray(doc[field])) throw new Error(`${where}: field ${field} is not an array`);
  for (const role of TOPIC_ROLES) if (!Array.isArray(doc.seen?.[role])) throw new Error(`${where}: field seen.${role} is not an array`);
  return {
    requests: doc.requests.map(([requestId, user, eventTime, label, top, shadows, bought]) => ({
      key: '', // derived again on restore
      user,
      eventTime,
      requestId,
      label,
      top,
      shadows,
      bought: bought.map(([products, hit]): AttributedPurchase => ({ products, modelHit: hit === 1 })),
    })),
    waitingShadows: doc.waiting.map(([requestId, shadow, eventTime, top]): ShadowAnswer => ({ requestId, shadow, eventTime, top })),
    pending: doc.pending.map(([id, user, eventTime, products]): BoughtBasket => ({ id, user, eventTime, products })),
    history: doc.history.map(([user, eventTime, products]): Bought => ({ user, eventTime, products })),
    seen: { results: doc.seen.results, shadows: doc.seen.shadows, purchases: doc.seen.purchases },
  };
}
