/**
 * Issue 24, item 5: readiness checks every replica of a slot, since its
 * Service spreads predict calls over them all. Two real slot processes
 * (src/serving/slot/main.ts) serve the same slot from real MinIO, as two
 * replicas behind a Service; the second polls MinIO only every 8 s, so it
 * lags. The readiness check must not pass before the lagging one serves the
 * version too: when it returns, a predict for that version on either replica
 * is answered.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config';
import { predictUrlFor } from '../../src/messaging/predict-url';
import { FailureType } from '../../src/failure-types';
import { servingActivities, type ReadinessResult } from '../../src/serving/activities';
import { waitUntilServing } from '../../src/serving/readiness';
import { slotReplicas, type Replica } from '../../src/serving/replicas';
import { exportSavedModel } from '../../src/savedmodel';
import { createMinioClient } from '../../src/storage/minio-client';
import { removePrefix, tempDir, uploadVersionDir } from '../helpers/minio';
import { randomWeights } from '../helpers/network';

const cfg = loadConfig();
const minio = createMinioClient(cfg.minio);
const bucket = cfg.buckets.models;
const slot = `replicas-${randomUUID().slice(0, 8)}`;
const children: ChildProcess[] = [];
let work: string;

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** One slot replica as its own process, polling MinIO every `pollMs`; resolves once it answers /healthz. */
async function startReplica(pollMs: number): Promise<Replica> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/serving/slot/main.ts', '--slot', slot, '--port', String(port), '--no-grpc', '--poll-ms', String(pollMs)],
    { env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.push(child);
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const baseUrl = `http://127.0.0.1:${port}`;
  for (const end = Date.now() + 60_000; ; await new Promise((r) => setTimeout(r, 100))) {
    if (child.exitCode !== null) throw new Error(`slot replica exited with ${child.exitCode}: ${output}`);
    if (Date.now() > end) throw new Error(`slot replica on ${port} did not start: ${output}`);
    const ok = await fetch(`${baseUrl}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return { baseUrl, grpcAddress: '' };
  }
}

beforeAll(async () => {
  work = await tempDir('readiness-replicas');
  await exportSavedModel(randomWeights(40, 20, 8, 6, 1, 'sigmoid'), path.join(work, 'm'));
});
afterAll(async () => {
  for (const child of children) {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
  }
  await removePrefix(minio, bucket, `${slot}/`);
  await fs.rm(work, { recursive: true, force: true });
});

describe('readiness of a slot with two replicas', () => {
  it('passes only once the lagging replica serves the version too', async () => {
    const fast = await startReplica(100);
    const lagging = await startReplica(8000); // its first look (at start) found nothing; the next is 8 s later
    await uploadVersionDir(minio, bucket, slot, 1, path.join(work, 'm'));
    const states: string[] = [];
    const ready = await waitUntilServing({
      baseUrl: fast.baseUrl, // the Service's address stands in as the URL to publish
      slot,
      version: 1,
      deadlineMs: Date.now() + 60_000,
      initialDelayMs: 100,
      maxDelayMs: 250,
      replicas: () => Promise.resolve([fast, lagging]),
      onPoll: (poll) => states.push(`${poll.state} ${poll.detail}`),
    });
    // and now both answer a predict for the version the URL names
    for (const r of [fast, lagging]) {
      const res = await fetch(predictUrlFor(r.baseUrl, slot, 1), {
        method: 'POST',
        body: JSON.stringify({ instances: [{ users: [1], products: [2] }] }),
      });
      expect(res.status, `${r.baseUrl}: ${await res.clone().text()}`).toBe(200);
    }
    expect(ready.predictUrl).toBe(predictUrlFor(fast.baseUrl, slot, 1));
    // it waited for the lagging replica, naming it
    expect(states.some((s) => s.startsWith('NOT_FOUND') && s.includes(lagging.baseUrl))).toBe(true);

    // the activity takes its replicas from SLOT_REPLICAS_HOST: one it cannot resolve is never "ready",
    // though the slot address serves the version; without it, that address is the one replica
    const activityFor = (env: Record<string, string>) =>
      servingActivities(
        loadConfig({ ...process.env, SLOT_NAMES: `${slot},${slot}-other`, SLOT_PORTS: `${new URL(fast.baseUrl).port},1`, ...env }),
      ).waitForStandbyReady;
    const unresolved = await new MockActivityEnvironment()
      .run(activityFor({ SLOT_REPLICAS_HOST: 'no-such-replicas.invalid' }), { slot, version: 1, timeoutMs: 1500 })
      .catch((e: unknown) => e);
    expect(unresolved).toBeInstanceOf(ApplicationFailure);
    expect((unresolved as ApplicationFailure).type).toBe(FailureType.ReadinessDeadline);
    expect((unresolved as ApplicationFailure).message).toMatch(/UNREACHABLE resolving the replicas/);
    const single = (await new MockActivityEnvironment().run(activityFor({}), { slot, version: 1, timeoutMs: 10_000 })) as ReadinessResult;
    expect(single.predictUrl).toBe(predictUrlFor(fast.baseUrl, slot, 1));
  }, 120_000);

  it('resolves every address of SLOT_REPLICAS_HOST on the slot ports, and the slot address alone without it', async () => {
    const config = cfg.slots[0];
    expect(await slotReplicas(config, undefined)).toEqual([{ baseUrl: config.baseUrl, grpcAddress: config.grpcAddress }]);
    const twoPods = () =>
      Promise.resolve([
        { address: '10.0.0.7', family: 4 },
        { address: 'fd00::5', family: 6 },
        { address: '10.0.0.7', family: 4 },
      ]);
    expect(await slotReplicas(config, 'recommender-slots-replicas', twoPods)).toEqual([
      { baseUrl: `http://10.0.0.7:${config.port}`, grpcAddress: `10.0.0.7:${config.grpcPort}` },
      { baseUrl: `http://[fd00::5]:${config.port}`, grpcAddress: `[fd00::5]:${config.grpcPort}` },
    ]);
    // real DNS (the resolver's hosts file): localhost is at least 127.0.0.1
    const local = await slotReplicas(config, 'localhost');
    expect(local.map((r) => r.baseUrl)).toContain(`http://127.0.0.1:${config.port}`);
  });
});
