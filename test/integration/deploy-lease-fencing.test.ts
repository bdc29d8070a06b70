/**
 * Issue 24, item 11 (b): the deploy lease's expiry is judged on each
 * worker's own clock, so a run may go on believing it holds a lease that
 * another run took. The lease generation (fencing token) goes up at every
 * take-over; every registry write carries its run's generation and is
 * refused (non-retryable DeployLockLost, nothing written) when it is not
 * current; the in-activity renewal stops an activity whose lease was lost.
 * Real MinIO, the real activities in the SDK's activity environment.
 */
import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, describe, expect, it } from 'vitest';
import type { ActivityDeps } from '../../src/activities/deps';
import { renewingLease } from '../../src/activities/lease-renewal';
import { registryActivities } from '../../src/activities/registry';
import { loadConfig } from '../../src/config';
import { FailureType } from '../../src/failure-types';
import { createKafka } from '../../src/messaging/kafka';
import { createMinioClient } from '../../src/storage/minio-client';
import { deployLease, type Holder, type Liveness } from '../../src/store/lease';
import { readFullHistory, registryLocation, type DeploymentState } from '../../src/store/registry';
import { removePrefix } from '../helpers/minio';

const prefix = `fence-test-${randomUUID().slice(0, 8)}`;
const base = loadConfig();
const minio = createMinioClient(base.minio);
let n = 0;
const h = (id: string): Holder => ({ workflowId: id, runId: `run-${id}` });
const running = async (): Promise<Liveness> => 'running';
const gone = async (): Promise<Liveness> => 'gone';
const metrics = {
  objective: 'linear' as const,
  hitRate10: 0.5,
  ndcg10: 0.3,
  popularityHitRate10: 0.1,
  popularityNdcg10: 0.05,
  valLoss: NaN,
  rmse: NaN,
  evaluatedUsers: 10,
  protocol: 'test',
};

/** A registry, its lease and the activities of its own. */
function world() {
  const config = loadConfig({ ...process.env, DATA_PREFIX: `${prefix}/${++n}`, REGISTRY_KEY: `${prefix}/${n}/deployments.json` });
  const deps: ActivityDeps = { config, minio, kafka: createKafka(config.kafka, '-fence-test') };
  return { deps, lease: deployLease(minio, config.buckets.models, config.registryKey), activities: registryActivities(deps) };
}

function commit(w: ReturnType<typeof world>, run: Holder, version: number, leaseGeneration: number) {
  const input = { slot: w.deps.config.slots[0].name, version, url: `u${version}`, metrics, kind: 'deploy' as const, leaseGeneration };
  return new MockActivityEnvironment({ workflowExecution: run }).run(w.activities.commitActiveSlot, input);
}

async function refusal(p: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await p.catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ApplicationFailure);
  expect((err as ApplicationFailure).type).toBe(FailureType.DeployLockLost);
  expect((err as ApplicationFailure).nonRetryable).toBe(true);
  return err as ApplicationFailure;
}

afterAll(async () => {
  await removePrefix(minio, base.buckets.models, `${prefix}/`);
  await removePrefix(minio, base.buckets.data, `${prefix}/`);
});

describe('deploy lease generation (fencing token)', () => {
  it('goes up at every take-over, not when its holder takes it again; release keeps it', async () => {
    const { lease } = world();
    const a = await lease.acquire(h('A'), { liveness: running });
    expect(a).toMatchObject({ acquired: true, lease: { generation: 1 } });
    expect(await lease.acquire(h('A'), { liveness: running })).toMatchObject({ acquired: true, lease: { generation: 1 } });
    expect(await lease.acquire(h('B'), { liveness: gone })).toMatchObject({ acquired: true, lease: { generation: 2 } });
    await lease.release(h('B'));
    expect(await lease.read()).toMatchObject({ holder: null, generation: 2 });
    expect(await lease.acquire(h('A'), { liveness: running })).toMatchObject({ acquired: true, lease: { generation: 3 } });
  });

  it("refuses a stale holder's registry write (non-retryable DeployLockLost), and the current holder's goes through", async () => {
    const w = world();
    const loc = registryLocation(w.deps.config);
    await w.lease.acquire(h('A'), { ttlMs: 200, liveness: running });
    await new Promise((r) => setTimeout(r, 300));
    // A's lease expired (on B's clock) and B took it: A still believes it holds generation 1
    expect(await w.lease.acquire(h('B'), { liveness: running })).toMatchObject({ acquired: true, lease: { generation: 2 } });
    const stale = await refusal(commit(w, h('A'), 1, 1));
    expect(stale.message).toMatch(/generation 1 is no longer held by A .*now generation 2, held by B/);
    expect(await readFullHistory(minio, loc)).toEqual([]);
    const after = (await commit(w, h('B'), 2, 2)) as DeploymentState;
    expect(after.active).toMatchObject({ version: 2, workflowId: 'B' });
  });

  it('refuses a write under a generation older than one that already wrote, whatever the lease object says', async () => {
    const w = world();
    const loc = registryLocation(w.deps.config);
    await w.lease.acquire(h('A'), { liveness: running });
    await w.lease.acquire(h('B'), { liveness: gone });
    await commit(w, h('B'), 1, 2);
    // the lease object rewritten as A's generation 1 (e.g. a restored or raced copy): the registry still knows 2 wrote
    const old = {
      holder: h('A'),
      generation: 1,
      acquiredAt: new Date().toISOString(),
      expiresAt: new Date(Date.now() + 60_000).toISOString(),
    };
    await minio.putObject(base.buckets.models, w.lease.key, Buffer.from(JSON.stringify(old)));
    const err = await refusal(commit(w, h('A'), 5, 1));
    expect(err.message).toMatch(/written under deploy-lease generation 2; a write under generation 1 .* is refused/);
    expect((await readFullHistory(minio, loc)).map((d) => d.version)).toEqual([1]);
  });

  it('stops an activity whose lease is lost while it works', async () => {
    const w = world();
    const ttlMs = 600;
    await w.lease.acquire(h('A'), { ttlMs, liveness: running });
    let finished = false;
    const longStep = renewingLease(
      w.deps,
      () => new Promise<string>((r) => setTimeout(() => ((finished = true), r('done')), 6_000)),
      ttlMs,
    );
    const running$ = new MockActivityEnvironment({ workflowExecution: h('A') }).run(longStep);
    // another run takes it over (A judged gone) while A's step works
    await new Promise((r) => setTimeout(r, 100));
    expect(await w.lease.acquire(h('B'), { liveness: gone })).toMatchObject({ acquired: true });
    const err = await refusal(running$);
    expect(err.message).toMatch(/lost the deploy lease while working/);
    expect(finished).toBe(false);
  }, 20_000);
});
