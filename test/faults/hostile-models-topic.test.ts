/**
 * Hostile and faulty records on the `models` topic (issue 24), on the real
 * stack: real slots serving real SavedModels from MinIO, real Kafka.
 *  - item 15: the first descriptor wakes partitions waiting out a long cool-down;
 *  - item 1: a forged descriptor naming a version the slot cannot serve is set
 *    aside (the model serving keeps serving, /healthz degraded), also after a restart;
 *  - item 2: a transactional write (commit and abort) on `models` does not stop
 *    the topic being read to its end, nor the model server from starting;
 *  - item 7: one out-of-range id in a batch costs no call (table sizes from the
 *    lineage) or a few (bisection), not one call per request; a record larger
 *    than any allowed request is refused before it is decoded.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Partitioners } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendRequests } from '../../src/cli/request-client';
import { ResultsTracker } from '../../src/cli/results-tracker';
import { loadConfig, type Config } from '../../src/config';
import { ensureTopics } from '../../src/messaging/kafka';
import { readDescriptors } from '../../src/messaging/model-descriptors';
import { decodeDeadLetter } from '../../src/messaging/dead-letter';
import { decodeResult, type RecommendationResult } from '../../src/messaging/result';
import { encodeDescriptor, encodeRequest, type ModelDescriptor, type RecommendationRequest } from '../../src/messaging/schemas';
import { publishSavedModel } from '../../src/store';
import { exportSavedModel } from '../../src/savedmodel';
import { waitUntilServing } from '../../src/serving/readiness';
import { silentLog, startModelServer, type ModelServer, type ModelServerOptions } from '../../src/serving/model-server';
import { lineageMetadataKey } from '../../src/store/layout';
import { predictUrlFor } from '../../src/messaging/predict-url';
import { tempDir } from '../helpers/minio';
import { randomWeights } from '../helpers/network';
import { startTestSystem, type TestSystem } from '../helpers/system';

let sys: TestSystem;
let work: string;
const servers: ModelServer[] = [];

beforeAll(async () => {
  sys = await startTestSystem({ withWorkers: false });
  work = await tempDir('hostile-models');
}, 180_000);
afterAll(async () => {
  for (const s of servers) await s.close().catch(() => undefined);
  await sys?.stop();
  await fs.rm(work, { recursive: true, force: true });
});

/** A configuration with request/result topics of its own (each test starts from an empty requests topic). */
async function withOwnRequests(name: string): Promise<Config> {
  const cfg = loadConfig({ ...sys.env, TOPIC_REQUESTS: `mdata-${name}-${sys.id}`, TOPIC_RESULTS: `recs-${name}-${sys.id}` });
  await ensureTopics(sys.kafka, cfg.topics);
  return cfg;
}

async function serve(cfg: Config, name: string, extra: Partial<ModelServerOptions> = {}): Promise<ModelServer> {
  const server = await startModelServer({
    config: cfg,
    port: 0,
    groupId: `ms-${name}-${sys.id}`,
    loadPopularity: null,
    log: silentLog,
    defaultMetrics: false,
    ...extra,
  });
  servers.push(server);
  return server;
}

/** Exports and publishes a version to slot i, waits until the slot serves it; returns its predict URL. */
async function exportVersion(slotIndex: 0 | 1, version: number): Promise<string> {
  const slot = sys.config.slots[slotIndex];
  const dir = path.join(work, `${slot.name}-v${version}`);
  const manifest = await exportSavedModel(randomWeights(200, 50, 8, 6, version), dir);
  await publishSavedModel(sys.minio, { bucket: sys.config.buckets.models, slot: slot.name, dir, manifest, version });
  return (await waitUntilServing({ baseUrl: slot.baseUrl, slot: slot.name, version, deadlineMs: Date.now() + 60_000 })).predictUrl;
}

async function writeDescriptors(cfg: Config, ds: ModelDescriptor[]): Promise<void> {
  const producer = sys.kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  await producer.send({ topic: cfg.topics.models, acks: -1, messages: ds.map((d) => ({ key: d.name, value: encodeDescriptor(d) })) });
  await producer.disconnect();
}

/** Sends `count` requests and resolves with the results once all are answered (rejects after `timeoutMs`). */
async function answered(cfg: Config, count: number, timeoutMs: number) {
  const tracker = new ResultsTracker(sys.kafka, cfg.topics.results);
  await tracker.start();
  try {
    await sendRequests({
      kafka: sys.kafka,
      topic: cfg.topics.requests,
      count,
      rate: 0,
      seed: count,
      shape: { users: 200, products: 50 },
      onSent: (s) => tracker.expect(s),
    });
    await tracker.drain(timeoutMs);
    return tracker.all().map((a) => a.result);
  } finally {
    await tracker.stop();
  }
}

async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('hostile and faulty records on the models topic', () => {
  it('item 15: the first descriptor wakes requests waiting out a long cool-down at once', async () => {
    const cfg = await withOwnRequests('wake');
    // no model and no popularity ranking yet: requests wait, their partition paused for 60 s
    const server = await serve(cfg, 'wake', {
      cooldown: { initialMs: 60_000, maxMs: 60_000 },
      loadInitialPopularity: async () => undefined,
    });
    await server.whenConsuming();
    const tracker = new ResultsTracker(sys.kafka, cfg.topics.results);
    await tracker.start();
    try {
      await sendRequests({
        kafka: sys.kafka,
        topic: cfg.topics.requests,
        count: 5,
        rate: 0,
        seed: 1,
        shape: { users: 200, products: 50 },
        onSent: (s) => tracker.expect(s),
      });
      await until('the partition to pause', async () => /model_server_unavailable_pauses_total [1-9]/.test(await server.metrics.metrics()));
      const url = await exportVersion(0, 1);
      await writeDescriptors(cfg, [{ name: sys.config.slots[0].name, description: 'v1', url }]);
      // well inside the 60 s cool-down
      await tracker.drain(15_000);
      expect(tracker.all().every((a) => a.result.outcome === 'scored' && a.result.model.version === 1)).toBe(true);
    } finally {
      await tracker.stop();
    }
  });

  it('item 1: a descriptor naming a version its slot cannot serve is set aside; serving goes on, also after a restart', async () => {
    const cfg = await withOwnRequests('forged');
    const slot = sys.config.slots[0];
    // slot 0 serves version 1 (the previous test); its descriptor is the last good one on the topic
    const server = await serve(cfg, 'forged-1');
    expect(server.currentModel()).toMatchObject({ slot: slot.name, version: 1 });
    await writeDescriptors(cfg, [
      { name: slot.name, description: 'forged', url: predictUrlFor(slot.baseUrl, slot.name, 999999) },
      // an old version of the other slot's: claimed nowhere either
      {
        name: sys.config.slots[1].name,
        description: 'forged',
        url: predictUrlFor(sys.config.slots[1].baseUrl, sys.config.slots[1].name, 1),
      },
    ]);
    await until('both descriptors set aside', async () =>
      /model_server_descriptors_set_aside_total 2/.test(await server.metrics.metrics()),
    );
    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'degraded', degraded: true });
    const results = await answered(cfg, 20, 20_000);
    expect(results.every((r) => r.outcome === 'scored' && r.model.version === 1)).toBe(true);
    await server.close();

    // a restart does not take the set-aside descriptors as current
    const restarted = await serve(cfg, 'forged-2');
    expect(restarted.currentModel()).toMatchObject({ slot: slot.name, version: 1 });
    expect(((await (await fetch(`${restarted.url}/healthz`)).json()) as { status: string }).status).toBe('degraded');
    const again = await answered(cfg, 10, 20_000);
    expect(again.every((r) => r.outcome === 'scored' && r.model.version === 1)).toBe(true);

    // a servable descriptor published later is adopted and clears the degraded state
    const url2 = await exportVersion(1, 2);
    await writeDescriptors(cfg, [{ name: sys.config.slots[1].name, description: 'v2', url: url2 }]);
    await until('version 2 adopted', () => restarted.currentModel()?.version === 2);
    expect(((await (await fetch(`${restarted.url}/healthz`)).json()) as { status: string }).status).toBe('ok');
  });

  it('item 2: transactional writes (commit and abort) on models: read to the end, and the model server starts', async () => {
    const cfg = await withOwnRequests('txn');
    const slot = sys.config.slots[1];
    const url = predictUrlFor(slot.baseUrl, slot.name, 2);
    for (const outcome of ['commit', 'abort'] as const) {
      const producer = sys.kafka.producer({
        transactionalId: `hostile-${outcome}-${sys.id}`,
        idempotent: true,
        maxInFlightRequests: 1,
        createPartitioner: Partitioners.DefaultPartitioner,
      });
      await producer.connect();
      const txn = await producer.transaction();
      await txn.send({
        topic: cfg.topics.models,
        messages: [{ key: outcome, value: encodeDescriptor({ name: slot.name, description: outcome, url }) }],
      });
      await (outcome === 'commit' ? txn.commit() : txn.abort());
      await producer.disconnect();
      // the topic now ends with a transaction marker that no consumer is ever given. The
      // coordinator writes the commit marker after commit() returns, so a read right
      // away may still end before the committed record: each read must end (10 s
      // limit), and one soon sees it
      let last: string | undefined;
      for (let i = 0; i < 20 && last !== 'commit'; i++) {
        if (i > 0) await new Promise((r) => setTimeout(r, 250));
        last = (await readDescriptors(sys.kafka, cfg.topics.models, 10_000)).at(-1)?.descriptor.description;
      }
      expect(last).toBe('commit');
    }
    const started = Date.now();
    const server = await serve(cfg, 'txn');
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(server.currentModel()).toMatchObject({ slot: slot.name, version: 2 });
  });

  it('item 7: one out-of-range id costs no predict call with known table sizes, a few without', async () => {
    const slot = sys.config.slots[1]; // serves version 2: 200 users × 50 products
    await sys.minio.putObject(
      sys.config.buckets.models,
      lineageMetadataKey(slot.name, 2),
      Buffer.from(JSON.stringify({ userRows: 200, productRows: 50, popularProducts: [3, 2, 1] })),
    );
    const requests: RecommendationRequest[] = Array.from({ length: 300 }, (_, i) => ({ user: i % 200, products: [i % 50, (i + 7) % 50] }));
    requests[150] = { user: 5, products: [1, 5000] };
    for (const [name, extra, most] of [
      ['tables', {}, 1], // the bad request is answered without a call, the other 299 in one
      ['bisect', { tableSizes: null }, 2 * Math.ceil(Math.log2(300)) + 1], // the slot's rejection is bisected
    ] as const) {
      const cfg = await withOwnRequests(`amp-${name}`);
      const server = await serve(cfg, `amp-${name}`, { loadPopularity: undefined, chunkSize: 5000, ...extra });
      await server.whenConsuming();
      expect(server.currentModel()).toMatchObject({ slot: slot.name, version: 2 });
      const before = await predictCalls(1);
      const results = await collectResults(cfg, requests.length, async () => {
        const producer = sys.kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
        await producer.connect();
        await producer.send({ topic: cfg.topics.requests, acks: -1, messages: requests.map((r) => ({ value: encodeRequest(r) })) });
        await producer.disconnect();
      });
      const calls = (await predictCalls(1)) - before;
      expect(calls, `${name}: predict calls for 300 requests with one bad id`).toBeLessThanOrEqual(most);
      const bad = results.find((r) => r.source.offset === '150');
      expect(bad).toMatchObject({ outcome: 'fallback', fallback: 'popularity' });
      expect(results.filter((r) => r.outcome === 'scored')).toHaveLength(299);
      await server.close();
    }
  });

  it('item 7: a record larger than any request of maxProducts products is dead-lettered without being decoded', async () => {
    const cfg = await withOwnRequests('huge');
    const server = await serve(cfg, 'huge', { maxProducts: 1000 });
    await server.whenConsuming();
    const huge = encodeRequest({ user: 1, products: Array.from({ length: 900_000 }, (_, i) => i % 100) });
    const consumer = sys.kafka.consumer({ groupId: `hostile-dlq-${randomUUID()}`, maxWaitTimeInMs: 200 });
    const letters: ReturnType<typeof decodeDeadLetter>[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic: cfg.topics.dlq, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void letters.push(decodeDeadLetter(message.value!)) });
    try {
      const producer = sys.kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
      await producer.connect();
      await producer.send({ topic: cfg.topics.requests, acks: -1, messages: [{ value: huge }] });
      await producer.disconnect();
      await until('the dead letter', () => letters.length >= 1);
      expect(letters[0]).toMatchObject({ code: 'too-many-products', valueBytes: huge.length });
      expect(letters[0].reason).toMatch(/more than a request of 1000 products can take \(11032\); not decoded/);
    } finally {
      await consumer.disconnect();
    }
  });
});

/** Predict calls slot i has answered so far (its Prometheus counter). */
async function predictCalls(i: 0 | 1): Promise<number> {
  const text = await (await fetch(`${sys.slots[i].url}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith('slot_predict_calls_total{'))
    .reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
}

/** Runs `send`, then collects `count` results from the results topic. */
async function collectResults(cfg: Config, count: number, send: () => Promise<void>): Promise<RecommendationResult[]> {
  const results: RecommendationResult[] = [];
  const consumer = sys.kafka.consumer({ groupId: `hostile-results-${randomUUID()}`, maxWaitTimeInMs: 200 });
  await consumer.connect();
  await consumer.subscribe({ topic: cfg.topics.results, fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => void results.push(decodeResult(message.value!)) });
  try {
    await send();
    await until(`${count} results`, () => results.length >= count, 30_000);
    return results;
  } finally {
    await consumer.disconnect();
  }
}
