/**
 * Issue 24, item 11 (a): the readiness limit is a duration that the serving
 * worker measures on its own clock, carried across retries in its
 * heartbeats (waitedMs), never an instant of the workflow's clock compared
 * with the worker's. The real activity against a real slot (on MinIO) that
 * does not have the version, in the SDK's activity environment.
 */
import { randomUUID } from 'node:crypto';
import { MockActivityEnvironment } from '@temporalio/testing';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config';
import { FailureType } from '../../src/failure-types';
import { servingActivities, type ReadinessHeartbeat } from '../../src/serving/activities';
import { startSlotServer, type SlotServer } from '../../src/serving/slot/server';
import { createMinioClient } from '../../src/storage/minio-client';

const base = loadConfig();
const minio = createMinioClient(base.minio);
const slot = `readiness-${randomUUID().slice(0, 8)}`;
let server: SlotServer;
let activities: ReturnType<typeof servingActivities>;

beforeAll(async () => {
  server = await startSlotServer({
    name: slot,
    host: '127.0.0.1',
    port: 0,
    client: minio,
    bucket: base.buckets.models,
    pollIntervalMs: 300,
  });
  const config = loadConfig({ ...process.env, SLOT_NAMES: `${slot},${slot}-other`, SLOT_PORTS: `${new URL(server.url).port},1` });
  activities = servingActivities(config);
});
afterAll(async () => {
  await server?.close();
});

async function failureOf(env: MockActivityEnvironment, timeoutMs: number): Promise<ApplicationFailure> {
  const err = await env.run(activities.waitForStandbyReady, { slot, version: 7, timeoutMs }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ApplicationFailure);
  return err as ApplicationFailure;
}

describe('waitForStandbyReady with a duration', () => {
  it('gives up after the duration, heartbeating the time waited so far', async () => {
    const env = new MockActivityEnvironment();
    const beats: ReadinessHeartbeat[] = [];
    env.on('heartbeat', (d: ReadinessHeartbeat) => beats.push(d));
    const err = await failureOf(env, 1_200);
    expect(err.type).toBe(FailureType.ReadinessDeadline);
    expect(err.nonRetryable).toBe(true);
    expect(beats.length).toBeGreaterThan(1);
    expect(beats.every((b) => b.state === 'NOT_FOUND' && typeof b.waitedMs === 'number')).toBe(true);
    expect(beats.at(-1)!.waitedMs).toBeGreaterThanOrEqual(1_000);
    expect(beats.map((b) => b.waitedMs)).toEqual([...beats.map((b) => b.waitedMs)].sort((a, b) => a - b));
  });

  it('a retried attempt counts what the earlier attempts waited (from their last heartbeat)', async () => {
    // the earlier attempts used up the whole minute: this one polls once and gives up
    const env = new MockActivityEnvironment({
      attempt: 3,
      heartbeatDetails: { polls: 9, state: 'NOT_FOUND', detail: '', waitedMs: 60_000 },
    });
    const beats: ReadinessHeartbeat[] = [];
    env.on('heartbeat', (d: ReadinessHeartbeat) => beats.push(d));
    const err = await failureOf(env, 60_000);
    expect(err.type).toBe(FailureType.ReadinessDeadline);
    expect(err.message).toMatch(/\(1 polls; last: NOT_FOUND/);
    expect(beats).toHaveLength(1);
    expect(beats[0]!.waitedMs).toBeGreaterThanOrEqual(60_000);
  }, 20_000);
});
