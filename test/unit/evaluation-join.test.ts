/**
 * The streaming join (src/evaluation/join-state.ts) equals the batch
 * definition (src/evaluation/batch.ts) on traffic made from the seed's real
 * lines, whatever the interleaving of the three topics and wherever the
 * state is checkpointed (JSON round trip) and resumed. The real-stack
 * version, with Kafka, MinIO and a SIGKILL, is test/evaluation/evaluator.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { Message } from 'kafkajs';
import { batchFigures, type PartitionRecords } from '../../src/evaluation/batch';
import { mergeFigures, type Figures } from '../../src/evaluation/figures';
import { PartitionJoin, type JoinRules, type JoinSnapshot, type JoinSummary, type TopicRole } from '../../src/evaluation/join-state';
import { decodeBasket, decodeServed, decodeShadowAnswer } from '../../src/evaluation/records';
import { decodeChunk, planChunks, type ChunkRef } from '../../src/evaluation/state-chunks';
import { seedTraffic } from '../evaluation/traffic';

const RULES: JoinRules = { windowMs: 30 * 60_000, graceMs: 5 * 60_000, repeatHorizonMs: 7 * 86_400_000 };
const PARTITIONS = 3;

function split(t: ReturnType<typeof seedTraffic>): Record<TopicRole, Message[]>[] {
  const parts = Array.from({ length: PARTITIONS }, () => ({
    results: [] as Message[],
    shadows: [] as Message[],
    purchases: [] as Message[],
  }));
  for (const role of ['results', 'shadows', 'purchases'] as const) for (const m of t[role]) parts[Number(m.key) % PARTITIONS][role].push(m);
  return parts;
}

function decoded(p: Record<TopicRole, Message[]>): PartitionRecords {
  return {
    results: p.results.map((m) => decodeServed(m.value as Buffer)),
    shadows: p.shadows.map((m) => decodeShadowAnswer(m.value as Buffer)),
    purchases: p.purchases.map((m) => decodeBasket(m.value as Buffer)),
  };
}

/** A seeded generator, so that a failure can be replayed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

/** Feeds one partition's records in a random interleaving (chunks of each topic in order), round-tripping the state now and then. */
function stream(p: PartitionRecords, random: () => number): PartitionJoin {
  let join = new PartitionJoin(RULES);
  const at = { results: 0, shadows: 0, purchases: 0 };
  const left = (role: TopicRole) => p[role].length - at[role];
  while (left('results') + left('shadows') + left('purchases') > 0) {
    const roles = (['results', 'shadows', 'purchases'] as const).filter((r) => left(r) > 0);
    const role = roles[Math.floor(random() * roles.length)];
    for (let n = 1 + Math.floor(random() * 200); n > 0 && left(role) > 0; n--) {
      if (role === 'results') join.served(p.results[at.results++]);
      else if (role === 'shadows') join.shadow(p.shadows[at.shadows++]);
      else join.purchase(p.purchases[at.purchases++]);
    }
    if (random() < 0.05) join = PartitionJoin.restore(RULES, JSON.parse(JSON.stringify(join.snapshot())) as JoinSnapshot);
  }
  return join;
}

describe('online evaluation: stream equals batch', () => {
  const parts = split(seedTraffic(20_001, 24_001, 60_000)).map(decoded);
  const batch = batchFigures(parts, RULES);

  it('the batch figures are not trivial', () => {
    const versions = Object.values(batch.figures);
    expect(versions.map((v) => v.version).sort()).toEqual([1, 2]);
    for (const v of versions) {
      expect(v.followed).toBeGreaterThan(1000);
      expect(v.hits).toBeGreaterThan(0);
      expect(v.repeat.followed).toBeGreaterThan(0);
      expect(v.explore.followed).toBeGreaterThan(0);
      expect(v.shadows.popularity.paired).toBe(v.followed);
      expect(v.shadows['previous-model'].paired).toBeGreaterThan(0);
    }
  });

  it.each([1, 2, 3, 4, 5])('random interleaving and checkpoints, seed %i', (seed) => {
    const random = rng(seed);
    const joins = parts.map((p) => stream(p, random));
    const figures: Figures = {};
    const purchases = { attributed: 0, unattributed: 0 };
    for (const j of joins) {
      mergeFigures(figures, JSON.parse(JSON.stringify(j.figures)) as Figures);
      purchases.attributed += j.purchases.attributed;
      purchases.unattributed += j.purchases.unattributed;
    }
    expect(figures).toEqual(batch.figures);
    expect(purchases).toEqual(batch.purchases);
    const kept = joins.map((j) => j.sizes());
    // the state is bounded by the window: far fewer requests kept than served
    expect(Math.max(...kept.map((k) => k.requests))).toBeLessThan(200);
  });
});

/** A snapshot with its lists in a fixed order (a restore fills its maps in another). */
function canonical(s: JoinSnapshot): Record<string, string[]> {
  const sorted = (xs: unknown[]) => xs.map((x) => JSON.stringify(x)).sort();
  return {
    requests: sorted(s.requests),
    waiting: sorted(s.waitingShadows),
    pending: sorted(s.pending),
    history: sorted(s.history),
    seen: sorted((['results', 'shadows', 'purchases'] as const).map((r) => [s.fronts[r].front, sorted(s.fronts[r].seen)])),
  };
}

/** Like stream(), but checkpointing as the evaluator does: state chunks rewritten where touched, restored from the chunks (small chunks: splits and drops happen). */
function streamChunked(p: PartitionRecords, random: () => number): { join: PartitionJoin; writes: number; chunks: number } {
  let join = new PartitionJoin(RULES);
  let chunks: ChunkRef[] = [];
  const stored = new Map<string, Buffer>();
  let n = 0;
  let writes = 0;
  const at = { results: 0, shadows: 0, purchases: 0 };
  const left = (role: TopicRole) => p[role].length - at[role];
  while (left('results') + left('shadows') + left('purchases') > 0) {
    const roles = (['results', 'shadows', 'purchases'] as const).filter((r) => left(r) > 0);
    const role = roles[Math.floor(random() * roles.length)];
    for (let k = 1 + Math.floor(random() * 200); k > 0 && left(role) > 0; k--) {
      if (role === 'results') join.served(p.results[at.results++]);
      else if (role === 'shadows') join.shadow(p.shadows[at.shadows++]);
      else join.purchase(p.purchases[at.purchases++]);
    }
    if (random() < 0.2) {
      const plan = planChunks(join, chunks, join.takeTouched(), () => `c${n++}`, 20);
      for (const b of plan.bodies) stored.set(b.key, b.body);
      for (const k of plan.replaced) stored.delete(k);
      writes += plan.bodies.length;
      chunks = plan.chunks;
      if (random() < 0.3) {
        const summary = JSON.parse(JSON.stringify(join.summary())) as JoinSummary;
        const restored = PartitionJoin.restoreParts(
          RULES,
          summary,
          chunks.map((c) => decodeChunk(stored.get(c.key)!, c.key)),
        );
        restored.takeTouched();
        // every entry, as it is now: a chunk not rewritten after a change would show here
        expect(canonical(restored.snapshot())).toEqual(canonical(join.snapshot()));
        join = restored;
      }
    }
  }
  return { join, writes, chunks: chunks.length };
}

describe('online evaluation: incremental checkpoints (state chunks) resume exactly', () => {
  const parts = split(seedTraffic(20_001, 24_001, 60_000)).map(decoded);
  const batch = batchFigures(parts, RULES);

  it.each([1, 2, 3])('random interleaving, chunked checkpoints and restores, seed %i', (seed) => {
    const random = rng(seed);
    const runs = parts.map((p) => streamChunked(p, random));
    const figures: Figures = {};
    for (const r of runs) mergeFigures(figures, r.join.figures);
    expect(figures).toEqual(batch.figures);
    // the state was split over several chunks, and most writes left most chunks alone
    expect(Math.max(...runs.map((r) => r.chunks))).toBeGreaterThan(3);
  });
});
