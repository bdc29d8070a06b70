/**
 * Incremental evaluator checkpoints on the real MinIO (docs/design.md,
 * "Quality out", crash safety): a head over immutable state chunks. A crash
 * after a checkpoint's chunks are written and before its head is resumes
 * from the previous head and ends with the figures of an uninterrupted run;
 * the chunks nobody lists are swept once the new owner's head is written;
 * a zombie owner's head write is refused and removes none of the owner's
 * chunks. Small chunks (20 entries), so that the state spans many.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config';
import { PartitionJoin, TOPIC_ROLES, type JoinRules, type TopicRole } from '../../src/evaluation/join-state';
import { commitCheckpoint, loadPartition, prepareCheckpoint, type PartitionState } from '../../src/evaluation/partition-checkpoint';
import {
  decodeBasket,
  decodeServed,
  decodeShadowAnswer,
  type BoughtBasket,
  type ServedRequest,
  type ShadowAnswer,
} from '../../src/evaluation/records';
import { createMinioClient } from '../../src/storage/minio-client';
import { onlineCheckpointKey, onlineGroupPrefix } from '../../src/store/layout';
import { writeIfUnchanged } from '../../src/store/versioned-object';
import { listChunks, onlineFigures, readCheckpoint, writeChunks } from '../../src/store/online-figures';
import { seedTraffic } from '../evaluation/traffic';
import { removePrefix } from '../helpers/minio';

const cfg = loadConfig();
const client = createMinioClient(cfg.minio);
const run = randomUUID().slice(0, 8);
const RULES: JoinRules = { windowMs: 30 * 60_000, graceMs: 5 * 60_000, repeatHorizonMs: 7 * 86_400_000 };
const TOPICS = { results: 'r', shadows: 's', purchases: 'p' };
const TARGET = 20;
const groups: string[] = [];
const storeOf = (name: string) => {
  const group = `online-chunks-it-${run}-${name}`;
  groups.push(group);
  return { client, bucket: cfg.buckets.models, group };
};

afterAll(async () => {
  for (const g of groups) await removePrefix(client, cfg.buckets.models, onlineGroupPrefix(g));
});

interface Records {
  results: ServedRequest[];
  shadows: ShadowAnswer[];
  purchases: BoughtBasket[];
}

const traffic = seedTraffic(20_001, 22_001);
const records: Records = {
  results: traffic.results.map((m) => decodeServed(m.value as Buffer)),
  shadows: traffic.shadows.map((m) => decodeShadowAnswer(m.value as Buffer)),
  purchases: traffic.purchases.map((m) => decodeBasket(m.value as Buffer)),
};

/** A fixed interleaving of the three topics (chunks of each in order; purchases often ahead of their results). */
const ORDER: TopicRole[] = (() => {
  let seed = 7;
  const random = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const left = { results: records.results.length, shadows: records.shadows.length, purchases: records.purchases.length };
  const order: TopicRole[] = [];
  while (TOPIC_ROLES.some((r) => left[r] > 0)) {
    const open = TOPIC_ROLES.filter((r) => left[r] > 0);
    const role = open[Math.floor(random() * open.length)];
    for (let n = 1 + Math.floor(random() * 120); n > 0 && left[role] > 0; n--, left[role]--) order.push(role);
  }
  return order;
})();

/** Feeds the partition its next record of `role` (the offset it resumes from moves on). */
function feedNext(s: PartitionState, role: TopicRole): void {
  const i = Number(s.next[role]);
  if (role === 'results') s.join.served(records.results[i]);
  else if (role === 'shadows') s.join.shadow(records.shadows[i]);
  else s.join.purchase(records.purchases[i]);
  s.next[role] = BigInt(i + 1);
}

/** Feeds the records of ORDER[from, to) that `s` has not read yet (a restart re-reads from its offsets). */
function feed(s: PartitionState, seen: Record<TopicRole, number>, from: number, to: number): void {
  for (let k = from; k < to; k++) {
    const role = ORDER[k];
    if (seen[role]++ >= Number(s.next[role])) feedNext(s, role);
  }
}

/** Partition 0's state before any record (no checkpoint yet). */
function freshState(): PartitionState {
  return {
    partition: 0,
    join: new PartitionJoin(RULES),
    next: { results: 0n, shadows: 0n, purchases: 0n },
    etag: null,
    chunks: [],
    orphans: [],
  };
}

function uninterrupted(): PartitionJoin {
  const s = freshState();
  feed(s, { results: 0, shadows: 0, purchases: 0 }, 0, ORDER.length);
  return s.join;
}

async function checkpoint(store: ReturnType<typeof storeOf>, s: PartitionState): Promise<boolean> {
  const outcome = await commitCheckpoint(store, s, prepareCheckpoint(store, TOPICS, s, TARGET));
  if (outcome.written) await outcome.garbage;
  return outcome.written;
}

/** Offsets of ORDER's prefix [0, k): how many records of each topic it holds. */
function offsetsAt(k: number): Record<TopicRole, number> {
  const at = { results: 0, shadows: 0, purchases: 0 };
  for (let i = 0; i < k; i++) at[ORDER[i]]++;
  return at;
}

describe('incremental evaluator checkpoints (head over state chunks) on the real MinIO', () => {
  const expected = uninterrupted().figures;

  it('a crash between the chunks and the head resumes from the previous head and ends equal to an uninterrupted run', async () => {
    const store = storeOf('crash');
    let s = await loadPartition(store, TOPICS, RULES, 0);
    const step = Math.ceil(ORDER.length / 12);
    const crashAt = 6 * step;
    for (let k = 0; k < crashAt; k += step) {
      feed(s, offsetsAt(k), k, Math.min(k + step, crashAt));
      expect(await checkpoint(store, s)).toBe(true);
    }
    const before = (await readCheckpoint(store, 0))!.checkpoint;
    expect(before.chunks!.length).toBeGreaterThan(3);
    // the crash: this checkpoint's chunks are written, its head never is
    feed(s, offsetsAt(crashAt), crashAt, crashAt + step);
    const torn = prepareCheckpoint(store, TOPICS, s, TARGET);
    expect(torn.plan.bodies.length).toBeGreaterThan(0);
    await writeChunks(store, torn.plan.bodies);
    expect((await readCheckpoint(store, 0))!.checkpoint.offsets).toEqual(before.offsets);

    s = await loadPartition(store, TOPICS, RULES, 0);
    expect(s.orphans.sort()).toEqual(torn.plan.bodies.map((b) => b.key).sort());
    expect(s.next).toEqual(Object.fromEntries(TOPIC_ROLES.map((r) => [r, BigInt(before.offsets[r])])));
    // the records since the head are read again, from its offsets
    for (let k = 0; k < ORDER.length; k += step) {
      feed(s, offsetsAt(k), k, Math.min(k + step, ORDER.length));
      if (k + step > crashAt) expect(await checkpoint(store, s)).toBe(true);
    }
    expect(await onlineFigures(store)).toEqual(expected);
    // the torn write's chunks are gone, and every chunk left is one the head lists
    const head = (await readCheckpoint(store, 0))!.checkpoint;
    expect((await listChunks(store, 0)).sort()).toEqual(head.chunks!.map((c) => c.key).sort());
    const resumed = await loadPartition(store, TOPICS, RULES, 0);
    expect(resumed.join.figures).toEqual(expected);
    expect(resumed.join.sizes()).toEqual(s.join.sizes());
  });

  it('a zombie owner loses its head write, and removes none of the new owner’s chunks', async () => {
    const store = storeOf('zombie');
    const step = Math.ceil(ORDER.length / 10);
    const zombie = await loadPartition(store, TOPICS, RULES, 0);
    feed(zombie, offsetsAt(0), 0, 3 * step);
    expect(await checkpoint(store, zombie)).toBe(true);
    // a rebalance: the partition goes to another evaluator, while the zombie goes on
    const owner = await loadPartition(store, TOPICS, RULES, 0);
    feed(owner, offsetsAt(3 * step), 3 * step, 5 * step);
    feed(zombie, offsetsAt(3 * step), 3 * step, 4 * step);
    expect(await checkpoint(store, owner)).toBe(true);
    const ownerHead = (await readCheckpoint(store, 0))!;
    expect(await checkpoint(store, zombie)).toBe(false);
    expect((await readCheckpoint(store, 0))!.etag).toBe(ownerHead.etag);
    expect((await listChunks(store, 0)).sort()).toEqual(ownerHead.checkpoint.chunks!.map((c) => c.key).sort());
    feed(owner, offsetsAt(5 * step), 5 * step, ORDER.length);
    expect(await checkpoint(store, owner)).toBe(true);
    expect(await onlineFigures(store)).toEqual(expected);
    expect((await loadPartition(store, TOPICS, RULES, 0)).join.figures).toEqual(expected);
  });

  it('a schema 1 checkpoint (the whole state in one object) loads and is rewritten as a head over chunks; an unknown schema is refused', async () => {
    const store = storeOf('schema1');
    const half = Math.floor(ORDER.length / 2);
    const old = freshState();
    feed(old, offsetsAt(0), 0, half);
    const offsets = Object.fromEntries(TOPIC_ROLES.map((r) => [r, old.next[r].toString()]));
    const body = { schema: 1, partition: 0, topics: TOPICS, offsets, state: old.join.snapshot(), writtenAt: new Date().toISOString() };
    const key = onlineCheckpointKey(store.group, 0);
    expect(await writeIfUnchanged(client, store.bucket, key, Buffer.from(JSON.stringify(body)), null)).toBeDefined();
    const s = await loadPartition(store, TOPICS, RULES, 0);
    expect(s.next).toEqual(old.next);
    expect(await checkpoint(store, s)).toBe(true);
    const head = (await readCheckpoint(store, 0))!.checkpoint;
    expect(head.schema).toBe(2);
    expect(head.chunks!.length).toBeGreaterThan(3);
    feed(s, offsetsAt(half), half, ORDER.length);
    expect(await checkpoint(store, s)).toBe(true);
    expect(await onlineFigures(store)).toEqual(expected);

    const unknown = storeOf('schema3');
    await writeIfUnchanged(
      client,
      unknown.bucket,
      onlineCheckpointKey(unknown.group, 0),
      Buffer.from(JSON.stringify({ ...body, schema: 3 })),
      null,
    );
    await expect(loadPartition(unknown, TOPICS, RULES, 0)).rejects.toThrow(
      `${unknown.bucket}/${onlineCheckpointKey(unknown.group, 0)}: unknown checkpoint schema 3 (this evaluator reads 1 and 2)`,
    );
  });
});
