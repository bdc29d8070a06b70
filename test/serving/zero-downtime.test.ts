/**
 * The blue/green switch under load, end to end through Kafka: the request
 * client sends continuously, a new version goes to the other slot, its URL
 * is published, and every request is answered (none fails), by the old
 * version before the switch and the new one after it.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendRequests } from '../../src/cli/request-client';
import { ResultsTracker } from '../../src/cli/results-tracker';
import { publishDescriptorOnce } from '../../src/messaging/model-descriptors';
import { publishSavedModel } from '../../src/store';
import { exportSavedModel } from '../../src/savedmodel';
import { waitUntilServing } from '../../src/serving/readiness';
import { startModelServer, type ModelServer } from '../../src/serving/model-server';
import { silentLog } from '../../src/serving/model-server';
import { tempDir } from '../helpers/minio';
import { randomWeights } from '../helpers/network';
import { startTestSystem, type TestSystem } from '../helpers/system';

let sys: TestSystem;
let server: ModelServer;
let work: string;

beforeAll(async () => {
  sys = await startTestSystem({ withWorkers: false });
  work = await tempDir('zero-downtime');
  server = await startModelServer({ config: sys.config, port: 0, groupId: `model-server-${sys.id}`, loadPopularity: null, log: silentLog });
});
afterAll(async () => {
  await server?.close();
  await sys?.stop();
  await fs.rm(work, { recursive: true, force: true });
});

async function deploy(slotIndex: 0 | 1, version: number, seed: number): Promise<string> {
  const slot = sys.config.slots[slotIndex];
  const dir = path.join(work, `v${version}`);
  const manifest = await exportSavedModel(randomWeights(1000, 300, 16, 16, seed), dir);
  await publishSavedModel(sys.minio, { bucket: sys.config.buckets.models, slot: slot.name, dir, manifest, version });
  const ready = await waitUntilServing({ baseUrl: slot.baseUrl, slot: slot.name, version, deadlineMs: Date.now() + 60_000 });
  await publishDescriptorOnce(sys.kafka, sys.config.topics.models, `${slot.name}/${version}`, {
    name: slot.name,
    description: `v${version}`,
    url: ready.predictUrl,
    publisher: `zero-downtime/${sys.id}`,
  });
  return slot.name;
}

describe('zero-downtime model switch through Kafka', () => {
  it('answers every request while the URL switches to the other slot', async () => {
    const slotA = await deploy(0, 1, 1);
    const tracker = new ResultsTracker(sys.kafka, sys.config.topics.results);
    await tracker.start();
    const abort = new AbortController();
    const sending = sendRequests({
      kafka: sys.kafka,
      topic: sys.config.topics.requests,
      rate: 50,
      seed: 5,
      signal: abort.signal,
      onSent: (s) => tracker.expect(s),
    });

    await new Promise((r) => setTimeout(r, 3000));
    const slotB = await deploy(1, 2, 2);
    const switchedAt = Date.now();
    await new Promise((r) => setTimeout(r, 3000));
    abort.abort();
    const summary = await sending;
    await tracker.drain(30_000);
    await tracker.stop();

    const stats = tracker.stats();
    expect(summary.sent).toBeGreaterThan(200);
    expect(stats).toMatchObject({ sent: summary.sent, answered: summary.sent, pending: 0, errors: 0, fallbacks: 0 });
    expect(stats.byModel[`${slotA}/1`]).toBeGreaterThan(0);
    expect(stats.byModel[`${slotB}/2`]).toBeGreaterThan(0);
    // once the descriptor is out (plus the follower's reaction time), only the new version answers
    const late = tracker.all().filter((a) => a.sentAt > switchedAt + 1000);
    expect(late.length).toBeGreaterThan(0);
    expect(late.every((a) => a.result.model.version === 2)).toBe(true);
  });
});
