/**
 * The deploy lease on the real MinIO (conditional writes decide every race)
 * and, for the holder's liveness, the real Temporal server.
 */
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MockActivityEnvironment } from '@temporalio/testing';
import { renewingLease } from '../../src/activities/lease-renewal';
import { holderLiveness } from '../../src/activities/registry';
import type { ActivityDeps } from '../../src/activities/deps';
import { loadConfig } from '../../src/config';
import { deployLease, type DeployLease, type Holder, type Liveness } from '../../src/store/lease';
import { readVersioned, writeIfUnchanged } from '../../src/store/versioned-object';
import { createMinioClient } from '../../src/storage/minio-client';
import { connectClient } from '../../src/temporal/connection';
import { removePrefix } from '../helpers/minio';

const cfg = loadConfig();
const minio = createMinioClient(cfg.minio);
const bucket = cfg.buckets.models;
const prefix = `lock-test-${randomUUID().slice(0, 8)}`;
let n = 0;
/** A lease of its own for each test (`now`: the test's clock). */
const freshLease = (now?: () => number): DeployLease => deployLease(minio, bucket, `${prefix}/${++n}/deployments.json`, now);
const h = (id: string): Holder => ({ workflowId: id, runId: `run-${id}` });
const running = async (): Promise<Liveness> => 'running';
const gone = async (): Promise<Liveness> => 'gone';
const minute = 60_000;
let temporal: Client;

beforeAll(async () => {
  temporal = await connectClient(cfg.temporal);
});
afterAll(async () => {
  await removePrefix(minio, bucket, `${prefix}/`);
  await temporal?.connection.close();
});

describe('conditional writes on MinIO', () => {
  it('honours If-None-Match: * and If-Match on PUT: a stale writer is refused, never overwrites', async () => {
    const key = `${prefix}/probe.json`;
    const first = await writeIfUnchanged(minio, bucket, key, Buffer.from('1'), null);
    expect(first).toBeTruthy();
    expect(await writeIfUnchanged(minio, bucket, key, Buffer.from('2'), null)).toBeUndefined();
    const second = await writeIfUnchanged(minio, bucket, key, Buffer.from('3'), first!);
    expect(second).toBeTruthy();
    expect(await writeIfUnchanged(minio, bucket, key, Buffer.from('4'), first!)).toBeUndefined();
    expect(await readVersioned(minio, bucket, key)).toEqual({ body: Buffer.from('3'), etag: second });
  });
});

describe('deploy lease in MinIO', () => {
  it('is held by one run at a time, re-entrant, released only by its holder', async () => {
    const lease = freshLease();
    expect(lease.key).toBe(`${prefix}/${n}/deploy.lock`);
    expect(await lease.acquire(h('A'), { ttlMs: minute, liveness: running })).toMatchObject({ acquired: true });
    expect(await lease.acquire(h('A'), { ttlMs: minute, liveness: running })).toMatchObject({ acquired: true });
    expect(await lease.acquire(h('B'), { ttlMs: minute, liveness: running })).toMatchObject({
      acquired: false,
      heldBy: { holder: h('A') },
    });
    expect(await lease.release(h('B'))).toBe(false);
    expect(await lease.renew(h('B'), minute)).toBe(false);
    expect(await lease.release(h('A'))).toBe(true);
    expect((await lease.read())?.holder).toBeNull();
    expect(await lease.acquire(h('C'), { ttlMs: minute, liveness: running })).toMatchObject({ acquired: true });
    expect(await lease.release(h('C'))).toBe(true);
  });

  it('is broken when Temporal says its holder is gone', async () => {
    const lease = freshLease();
    await lease.acquire(h('A'), { ttlMs: minute, liveness: running });
    expect(await lease.acquire(h('B'), { ttlMs: minute, liveness: gone })).toMatchObject({
      acquired: true,
      brokeFrom: h('A'),
    });
    expect(await lease.release(h('A'))).toBe(false);
  });

  it('two contenders breaking a stale lease at once: exactly one holds it', async () => {
    for (const stale of ['expired', 'gone'] as const) {
      const clock = { t: Date.now() };
      const lease = freshLease(() => clock.t);
      await lease.acquire(h('old'), { ttlMs: minute, liveness: running });
      if (stale === 'expired') clock.t += 2 * minute;
      // only the old holder is gone; the winner is alive
      const liveness = async (holder: Holder): Promise<Liveness> => (stale === 'gone' && holder.workflowId === 'old' ? 'gone' : 'running');
      const contenders = ['X', 'Y', 'Z', 'W'].map((id) => lease.acquire(h(id), { ttlMs: minute, liveness }));
      const results = await Promise.all(contenders);
      const winners = results.flatMap((r, i) => (r.acquired ? [['X', 'Y', 'Z', 'W'][i]] : []));
      expect(winners, stale).toHaveLength(1);
      expect((await lease.read())?.holder).toEqual(h(winners[0]!));
      for (const r of results) if (!r.acquired) expect(r.heldBy.holder).toEqual(h(winners[0]!));
    }
  });

  it('a transient describe() error never breaks a live lease; an expired one is broken; renewal keeps it', async () => {
    const warnings: string[] = [];
    const flaky = {
      workflow: { getHandle: () => ({ describe: () => Promise.reject(new Error('14 UNAVAILABLE: connection reset')) }) },
    } as unknown as Client;
    const liveness = holderLiveness({ temporal: flaky }, (m) => warnings.push(m));
    const clock = { t: Date.now() };
    const lease = freshLease(() => clock.t);
    await lease.acquire(h('A'), { ttlMs: minute, liveness: running });
    expect(await lease.acquire(h('B'), { ttlMs: minute, liveness })).toMatchObject({
      acquired: false,
      heldBy: { holder: h('A') },
    });
    expect(warnings).toEqual([expect.stringMatching(/lease stands/)]);
    // the holder renews: still its lease well past the first expiry
    clock.t += 50_000;
    expect(await lease.renew(h('A'), minute)).toBe(true);
    clock.t += 50_000;
    expect(await lease.acquire(h('B'), { ttlMs: minute, liveness })).toMatchObject({ acquired: false });
    // it stops renewing (stuck): after the expiry anyone may take it, even while Temporal cannot be asked
    clock.t += minute;
    expect(await lease.acquire(h('B'), { ttlMs: minute, liveness })).toMatchObject({
      acquired: true,
      brokeFrom: h('A'),
      why: expect.stringMatching(/expired/),
    });
    expect(await lease.renew(h('A'), minute)).toBe(false);
  });

  it('asks the real Temporal about holders with "/" in their workflow id', async () => {
    const liveness = holderLiveness({ temporal }, () => undefined);
    // no worker polls this queue: the run stays RUNNING
    const workflowId = `lock/test/${randomUUID()}`;
    const handle = await temporal.workflow.start('retrainAndDeploy', { taskQueue: `nobody-${randomUUID()}`, workflowId, args: [{}] });
    const holder = { workflowId, runId: handle.firstExecutionRunId };
    try {
      expect(await liveness(holder)).toBe('running');
      const lease = freshLease();
      await lease.acquire(holder, { ttlMs: minute, liveness: running });
      expect(await lease.acquire(h('B'), { ttlMs: minute, liveness })).toMatchObject({
        acquired: false,
        heldBy: { holder },
      });
      await handle.terminate('test over');
      expect(await liveness(holder)).toBe('gone');
      expect(await lease.acquire(h('B'), { ttlMs: minute, liveness })).toMatchObject({
        acquired: true,
        brokeFrom: holder,
      });
      expect(await liveness({ workflowId: `never/started/${randomUUID()}`, runId: randomUUID() })).toBe('gone');
    } finally {
      await handle.terminate('test over').catch(() => undefined);
    }
  });

  it('reads a lease written by the previous version ("<workflowId>/<runId>", no expiry)', async () => {
    const lease = freshLease();
    const acquiredAt = new Date().toISOString();
    await minio.putObject(bucket, lease.key, Buffer.from(JSON.stringify({ holder: 'a/b/c/run-1', acquiredAt })));
    expect(await lease.read()).toMatchObject({ holder: { workflowId: 'a/b/c', runId: 'run-1' }, acquiredAt });
    expect(await lease.acquire(h('B'), { ttlMs: minute, liveness: running })).toMatchObject({ acquired: false });
  });

  it("is renewed while its holder's activity works, and left alone for another run's", async () => {
    const registryKey = `${prefix}/renewal/deployments.json`;
    const lease = deployLease(minio, bucket, registryKey);
    const deps = { config: { ...cfg, registryKey }, minio } as unknown as ActivityDeps;
    const holder = h('worker');
    const ttlMs = 900;
    await lease.acquire(holder, { ttlMs, liveness: running });
    const env = new MockActivityEnvironment({ workflowExecution: holder });
    const longStep = renewingLease(deps, async () => new Promise((r) => setTimeout(() => r('done'), 2_500)), ttlMs);
    expect(await env.run(longStep)).toBe('done');
    // 2.5 s of work on a 0.9 s lease: still unexpired, because it was renewed
    const stored = await lease.read();
    expect(stored?.holder).toEqual(holder);
    expect(Date.parse(stored!.expiresAt)).toBeGreaterThan(Date.now() - 400);
    expect(stored?.renewedAt).toBeDefined();
    // another run's activity does not renew (nor take) it
    const other = new MockActivityEnvironment({ workflowExecution: h('other') });
    await other.run(renewingLease(deps, async () => new Promise((r) => setTimeout(r, 1_000)), ttlMs));
    expect((await lease.read())?.holder).toEqual(holder);
    expect(Date.parse((await lease.read())!.expiresAt)).toBeLessThan(Date.now());
  });
});
