/**
 * Issue 24, item 12 (second half): every replica of a slot polls every
 * second, so a poll must not cost more as versions accumulate. Real MinIO,
 * real SavedModels: the MinIO requests and objects listed by one steady poll
 * are counted with 1 and with 50 versions deployed, beside the full scan
 * (what every poll did before the slot's change marker) as the anchor; and a
 * slot whose full scans are all but off still picks up a new version and
 * unloads a removed one, by the marker alone.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Client } from 'minio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config';
import { exportSavedModel } from '../../src/savedmodel';
import { ModelManager } from '../../src/serving/slot/manager';
import { VersionSource } from '../../src/serving/slot/source';
import { createMinioClient } from '../../src/storage/minio-client';
import { latestCompleteVersion, removeVersion } from '../../src/store';
import { removePrefix, tempDir, uploadVersionDir } from '../helpers/minio';
import { randomWeights } from '../helpers/network';

const cfg = loadConfig();
const minio = createMinioClient(cfg.minio);
const bucket = cfg.buckets.models;
const slots: string[] = [];
let work: string;

interface Cost {
  requests: number;
  listed: number;
  listCalls: number;
}

/** A client that counts the MinIO requests it makes and the objects its listings return. */
function counting(client: Client): { client: Client; cost: Cost } {
  const cost: Cost = { requests: 0, listed: 0, listCalls: 0 };
  const proxy = new Proxy(client, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      const fn = value as (...args: unknown[]) => unknown;
      if (prop === 'listObjectsV2') {
        return (...args: unknown[]) => {
          cost.requests += 1; // one request per 1,000 keys: these listings hold fewer
          cost.listCalls += 1;
          const stream = fn.apply(target, args) as AsyncIterable<unknown>;
          return (async function* () {
            for await (const item of stream) {
              cost.listed += 1;
              yield item;
            }
          })();
        };
      }
      if (['statObject', 'getObject', 'putObject', 'copyObject', 'removeObject'].includes(String(prop))) {
        return (...args: unknown[]) => {
          cost.requests += 1;
          return fn.apply(target, args);
        };
      }
      return fn.bind(target);
    },
  });
  return { client: proxy, cost };
}

async function withVersions(count: number): Promise<string> {
  const slot = `poll-${randomUUID().slice(0, 8)}`;
  slots.push(slot);
  for (let v = 1; v <= count; v++) await uploadVersionDir(minio, bucket, slot, v, path.join(work, 'm'));
  return slot;
}

/** The cost of one steady poll (the marker did not move) and of one full scan, for `slot`. */
async function pollCost(slot: string): Promise<{ poll: Cost; fullScan: Cost }> {
  const polled = counting(minio);
  const source = new VersionSource(polled.client, bucket, slot);
  const first = await source.aspiredVersion(); // at start: a full scan
  const before = { ...polled.cost };
  const polls = 10;
  for (let i = 0; i < polls; i++) expect(await source.aspiredVersion()).toBe(first);
  const poll = {
    requests: (polled.cost.requests - before.requests) / polls,
    listed: (polled.cost.listed - before.listed) / polls,
    listCalls: (polled.cost.listCalls - before.listCalls) / polls,
  };
  const scanned = counting(minio);
  expect(await latestCompleteVersion(scanned.client, bucket, slot)).toBe(first);
  return { poll, fullScan: scanned.cost };
}

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  work = await tempDir('slot-poll-cost');
  await exportSavedModel(randomWeights(40, 20, 8, 6, 1, 'sigmoid'), path.join(work, 'm'));
});
afterAll(async () => {
  for (const slot of slots) await removePrefix(minio, bucket, `${slot}/`);
  await fs.rm(work, { recursive: true, force: true });
});

describe("a slot's poll", () => {
  it('costs the same with 1 and with 50 versions deployed (the full scan grows)', async () => {
    const one = await pollCost(await withVersions(1));
    const fifty = await pollCost(await withVersions(50));
    console.log(
      `per poll, 1 version: ${one.poll.requests} requests, ${one.poll.listed} objects listed; ` +
        `50 versions: ${fifty.poll.requests} requests, ${fifty.poll.listed} objects listed ` +
        `(full scan, the anchor: ${one.fullScan.requests} requests / ${one.fullScan.listed} listed with 1, ` +
        `${fifty.fullScan.requests} / ${fifty.fullScan.listed} with 50)`,
    );
    expect(fifty.poll).toEqual(one.poll);
    expect(fifty.poll).toEqual({ requests: 1, listed: 0, listCalls: 0 });
    // the anchor: what each poll cost before grows with the claims listed
    expect(fifty.fullScan.listed).toBeGreaterThanOrEqual(50);
    expect(fifty.fullScan.listed).toBeGreaterThan(one.fullScan.listed);
  }, 180_000);

  it('still picks up a new version and unloads a removed one, by the change marker alone', async () => {
    const slot = await withVersions(1);
    const polled = counting(minio);
    const manager = new ModelManager({
      slot,
      client: polled.client,
      bucket,
      pollIntervalMs: 50,
      cacheDir: path.join(work, `cache-${slot}`),
      fullScanEvery: Number.MAX_SAFE_INTEGER, // no periodic full scan: only the marker can tell
    });
    try {
      manager.start();
      await until('version 1 AVAILABLE', () => manager.status(1)?.state === 'AVAILABLE');
      // a quiet second (some 20 polls): the marker is read, the claims are not listed
      const before = { ...polled.cost };
      await new Promise((r) => setTimeout(r, 1000));
      expect(polled.cost.requests - before.requests).toBeGreaterThanOrEqual(5);
      expect(polled.cost.listCalls - before.listCalls).toBe(0);
      await uploadVersionDir(minio, bucket, slot, 2, path.join(work, 'm'));
      await until('version 2 AVAILABLE', () => manager.status(2)?.state === 'AVAILABLE');
      expect(manager.servable()?.version).toBe(2);
      await removeVersion(minio, bucket, slot, 2);
      await until('version 2 unloaded', () => manager.status(2)?.state === 'END');
      await until('version 1 served again', () => manager.servable()?.version === 1);
    } finally {
      await manager.close();
    }
  }, 120_000);
});
