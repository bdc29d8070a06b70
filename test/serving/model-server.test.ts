/**
 * The model server end to end on the real local Kafka, against an HTTP
 * predict endpoint. Each test uses topics and consumer groups of its own.
 *
 * The predict endpoint is the STAND-IN slot of model-server-stand-in-slot.ts
 * (the real slot, src/serving/slot, is not finished yet). Everything the
 * tests need from a slot is the `SlotUnderTest` interface below; to run them
 * against the real slot, implement `startSlot` with startSlotServer (model
 * tables of the given sizes) and make `failWith` answer 5xx (e.g. a
 * pass-through proxy in front of it), and take expected scores from the
 * model instead of `standInScore`.
 */
import { randomUUID } from 'node:crypto';
import { Partitioners, type Kafka } from 'kafkajs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sendRequests, type SentRequest } from '../../src/cli/request-client';
import { loadConfig, type Config } from '../../src/config';
import { createKafka, ensureTopics } from '../../src/messaging/kafka';
import { encodeDescriptor, encodeRequest } from '../../src/messaging/schemas';
import {
  decodeDeadLetter,
  decodeResult,
  silentLog,
  startModelServer,
  type DeadLetter,
  type LoadPopularity,
  type ModelServer,
  type ModelServerOptions,
  type RecommendationResult,
} from '../../src/serving/model-server';
import { standInScore, startStandInSlot, type StandInModel } from './model-server-stand-in-slot';

interface SlotUnderTest {
  predictUrl(name: string, version: number): string;
  failWith(status: number | null): void;
  calls(): number;
  close(): Promise<void>;
}

const startSlot = (models: StandInModel[]): Promise<SlotUnderTest> => startStandInSlot(models);
const expectedScore = standInScore;

const MODELS: StandInModel[] = [
  { name: 'recommender', version: 1, users: 1000, products: 300 },
  { name: 'recommender1', version: 2, users: 1000, products: 300 },
];
/** popularity of version 1: higher ids more popular (easy to check); none is known for version 2 */
const POPULARITY_V1 = Array.from({ length: 300 }, (_, i) => 299 - i);
const loadPopularity: LoadPopularity = async (slot, version) => (slot === 'recommender' && version === 1 ? POPULARITY_V1 : undefined);

const base = loadConfig();
const kafka: Kafka = createKafka(base.kafka, '-model-server-test');
let slot: SlotUnderTest;
const cleanups: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  slot = await startSlot(MODELS);
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});
afterAll(async () => {
  await slot.close();
});

/** A configuration whose four topics are fresh for this test. */
async function freshConfig(name: string, partitions = 1): Promise<Config> {
  const id = `ms-test-${name}-${randomUUID().slice(0, 8)}`;
  const cfg = loadConfig({
    ...process.env,
    TOPIC_REQUESTS: `${id}-mdata`,
    TOPIC_MODELS: `${id}-models`,
    TOPIC_RESULTS: `${id}-recommendations`,
    TOPIC_DLQ: `${id}-mdata-dlq`,
    TOPIC_SHADOWS: `${id}-recommendations-shadow`,
    // descriptor URLs are accepted only under the configured slots: both names on the stand-in slot
    SLOT_NAMES: MODELS.map((m) => m.name).join(','),
    SLOT_HOST: '127.0.0.1',
    SLOT_PORTS: `${new URL(slot.predictUrl('x', 1)).port},${new URL(slot.predictUrl('x', 1)).port}`,
  });
  await ensureTopics(kafka, cfg.topics, partitions);
  cleanups.push(async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.deleteTopics({ topics: Object.values(cfg.topics) });
    } finally {
      await admin.disconnect();
    }
  });
  return cfg;
}

async function publishModel(cfg: Config, name: string, version: number): Promise<string> {
  const url = slot.predictUrl(name, version);
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  await producer.send({
    topic: cfg.topics.models,
    acks: -1,
    messages: [{ key: `${name}-${version}`, value: encodeDescriptor({ name, description: `${name} v${version}`, url }) }],
  });
  await producer.disconnect();
  return url;
}

async function startServer(cfg: Config, groupId: string, extra: Partial<ModelServerOptions> = {}): Promise<ModelServer> {
  // servable: null — the stand-in slot has no model store behind it; adopting only servable
  // descriptors is tested against the real store and slots in test/faults/hostile-models-topic.test.ts
  const server = await startModelServer({
    config: cfg,
    port: 0,
    groupId,
    loadPopularity,
    servable: null,
    tableSizes: null, // the stand-in's tables are its own (out-of-range ids are answered by its 400)
    log: silentLog,
    defaultMetrics: false,
    ...extra,
  });
  cleanups.push(() => server.close());
  return server;
}

/** Everything that appears on the results and dead-letter topics. */
async function collect(cfg: Config): Promise<{
  results: RecommendationResult[];
  deadLetters: DeadLetter[];
  until(what: string, done: () => boolean, timeoutMs?: number): Promise<void>;
}> {
  const results: RecommendationResult[] = [];
  const deadLetters: DeadLetter[] = [];
  const consumer = kafka.consumer({ groupId: `ms-test-collector-${randomUUID()}`, maxWaitTimeInMs: 200 });
  await consumer.connect();
  await consumer.subscribe({ topics: [cfg.topics.results, cfg.topics.dlq], fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ topic, message }) => {
      if (topic === cfg.topics.results) results.push(decodeResult(message.value!));
      else deadLetters.push(decodeDeadLetter(message.value!));
    },
  });
  cleanups.push(() => consumer.disconnect());
  return {
    results,
    deadLetters,
    until: (what, done, timeoutMs = 30_000) => eventually(what, done, timeoutMs),
  };
}

async function eventually(what: string, done: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function committedOffset(groupId: string, topic: string): Promise<string> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [t] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return t.partitions.find((p) => p.partition === 0)?.offset ?? '-1';
  } finally {
    await admin.disconnect();
  }
}

async function send(cfg: Config, count: number, seed: number): Promise<SentRequest[]> {
  const sent: SentRequest[] = [];
  await sendRequests({ kafka, topic: cfg.topics.requests, count, rate: 0, seed, onSent: (s) => sent.push(...s) });
  return sent;
}

/** Raw records (valid or not) on the requests topic; returns their offsets. */
async function sendRaw(cfg: Config, values: (Buffer | null)[]): Promise<string[]> {
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  try {
    const [meta] = await producer.send({
      topic: cfg.topics.requests,
      acks: -1,
      messages: values.map((value, i) => ({ key: `k${i}`, value, partition: 0 })),
    });
    return values.map((_, i) => (BigInt(meta.baseOffset!) + BigInt(i)).toString());
  } finally {
    await producer.disconnect();
  }
}

function expectRankedByModel(result: RecommendationResult | undefined, user: number, products: number[], version: number): void {
  expect(result?.outcome).toBe('scored');
  if (result?.outcome !== 'scored') return;
  const expected = products
    .map((product) => ({ product, score: expectedScore(version, user, product) }))
    .sort((a, b) => b.score - a.score || a.product - b.product);
  expect(result.user).toBe(user);
  expect(result.ranked).toEqual(expected);
  expect(result.fallback).toBeNull();
  expect(result.model.version).toBe(version);
}

describe('model server', () => {
  it('answers requests with products ranked by the latest published model, and reports it', async () => {
    const cfg = await freshConfig('ranked');
    const url = await publishModel(cfg, 'recommender', 1); // published before start: picked up from the topic's history
    const group = `ms-test-${randomUUID()}`;
    const server = await startServer(cfg, group);
    expect(server.currentModel()).toMatchObject({ url, version: 1, slot: 'recommender' });
    const out = await collect(cfg);

    const sent = await send(cfg, 25, 7);
    const [beyondUser, beyondProduct] = await sendRaw(cfg, [
      encodeRequest({ user: 5000, products: [3, 250, 17] }),
      encodeRequest({ user: 4, products: [10, 300, 299] }),
    ]);
    await out.until('27 results', () => out.results.length >= 27);

    const byId = new Map(out.results.map((r) => [r.requestId, r]));
    expect(byId.size).toBe(27);
    for (const s of sent) {
      const r = byId.get(s.requestId);
      expectRankedByModel(r, s.request.user, s.request.products, 1);
      expect(r?.source).toEqual({ topic: cfg.topics.requests, partition: s.partition, offset: s.offset });
      expect(r?.model).toEqual({ name: 'recommender', slot: 'recommender', version: 1, url });
      expect(r?.latencyMs).toBeGreaterThan(0);
    }
    // Ids outside the model's tables: the slot answers 400, the server falls back to popularity.
    const fallbackUser = byId.get(`${cfg.topics.requests}:0:${beyondUser}`);
    expect(fallbackUser).toMatchObject({
      outcome: 'fallback',
      fallback: 'popularity',
      user: 5000,
      reason: expect.stringMatching(/indices\[0\] = 5000 is not in \[0, 1000\)/) as unknown,
    });
    expect(fallbackUser?.outcome === 'fallback' && fallbackUser.ranked.map((x) => x.product)).toEqual([250, 17, 3]);
    const fallbackProduct = byId.get(`${cfg.topics.requests}:0:${beyondProduct}`);
    expect(fallbackProduct?.outcome === 'fallback' && fallbackProduct.ranked).toEqual([
      { product: 299, score: 1 },
      { product: 10, score: 1 - 289 / 300 },
      { product: 300, score: 0 },
    ]);

    // Offsets are committed once the results are written.
    await eventually('committed offset 27', async () => (await committedOffset(group, cfg.topics.requests)) === '27');

    const state = (await (await fetch(`${server.url}/state`)).json()) as Record<string, unknown>;
    expect(state).toMatchObject({ current: { url, version: 1, name: 'recommender' }, deadLetters: 0, consuming: true });
    expect((state.models as Record<string, unknown>[])[0]).toMatchObject({
      url,
      count: 27,
      scored: 25,
      fallbacks: 2,
      errors: 0,
      until: null,
    });
    const usage = (state.models as { meanLatencyMs: number; minLatencyMs: number; maxLatencyMs: number }[])[0];
    expect(usage.minLatencyMs).toBeLessThanOrEqual(usage.meanLatencyMs);
    expect(usage.meanLatencyMs).toBeLessThanOrEqual(usage.maxLatencyMs);

    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/model_server_requests_total\{outcome="scored"\} 25/);
    expect(metrics).toMatch(/model_server_requests_total\{outcome="fallback"\} 2/);
    expect(metrics).toMatch(/model_server_model_version\{name="recommender",slot="recommender"\} 1/);
    expect(metrics).toMatch(/model_server_request_latency_seconds_count\{outcome="scored"\} 25/);
    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', model: true, consuming: true });
  });

  it('skips and counts descriptors it must not use: a foreign host, a bad %-escape, a newer timestamp that is older by offset', async () => {
    const cfg = await freshConfig('hostile-descriptors');
    const good = slot.predictUrl('recommender', 1);
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    cleanups.push(() => producer.disconnect());
    const put = (url: string, timestamp?: number) =>
      producer.send({
        topic: cfg.topics.models,
        acks: -1,
        messages: [
          {
            value: encodeDescriptor({ name: 'x', description: url, url }),
            timestamp: timestamp === undefined ? undefined : String(timestamp),
          },
        ],
      });
    // the forged "newest" record comes first on the log: order is by offset
    await put(slot.predictUrl('recommender1', 2), Date.now() + 86_400_000);
    await put(good);
    await put('http://203.0.113.9:8501/v1/models/recommender/versions/1:predict'); // not a configured slot
    await put(good.replace('/models/recommender/', '/models/%E0/')); // bad percent-escape
    const server = await startServer(cfg, `ms-test-${randomUUID()}`);
    expect(server.currentModel()).toMatchObject({ url: good, version: 1 });
    // the same at run time: the follower keeps going past both and takes the next usable one
    await put('http://203.0.113.9:8501/v1/models/recommender/versions/1:predict');
    await put(good.replace('/models/recommender/', '/models/%E0/'));
    await put(slot.predictUrl('recommender1', 2));
    await eventually('the switch past the hostile records', () => server.currentModel()?.version === 2);
    // counted at run time (the ones skipped by the start-up read are passed over, not counted)
    expect(server.state().descriptorsRejected).toBe(2);
    expect(server.health().ok).toBe(true);
  });

  it('dead-letters malformed records with their reasons and keeps serving the valid ones around them', async () => {
    const cfg = await freshConfig('dlq');
    await publishModel(cfg, 'recommender', 1);
    await startServer(cfg, `ms-test-${randomUUID()}`, { maxProducts: 50 });
    const out = await collect(cfg);

    const valid = (user: number) => encodeRequest({ user, products: [1, 2, 3] });
    const random = Buffer.from([0xde, 0xad, 0xbe, 0xef, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    const truncated = encodeRequest({ user: 12345, products: [100000, 200000] }).subarray(0, 5);
    const records: [Buffer | null, string | null][] = [
      [valid(1), null],
      [random, 'undecodable'],
      [truncated, 'undecodable'],
      [valid(2), null],
      [encodeRequest({ user: -1, products: [1] }), 'negative-id'],
      [encodeRequest({ user: 1, products: [5, -7] }), 'negative-id'],
      [encodeRequest({ user: 1, products: [2 ** 62] }), 'unsafe-id'],
      [encodeRequest({ user: 1, products: [] }), 'no-products'],
      [encodeRequest({ user: 1, products: Array.from({ length: 51 }, (_, i) => i) }), 'too-many-products'],
      [null, 'empty-message'],
      [valid(3), null],
    ];
    const offsets = await sendRaw(
      cfg,
      records.map(([v]) => v),
    );
    const bad = records.filter(([, code]) => code !== null).length;
    await out.until('all answers', () => out.results.length >= 3 && out.deadLetters.length >= bad);

    expect(out.results.map((r) => r.user)).toEqual([1, 2, 3]);
    for (const r of out.results) expectRankedByModel(r, r.user, [1, 2, 3], 1);
    const letters = new Map(out.deadLetters.map((d) => [d.source.offset, d]));
    expect(letters.size).toBe(bad);
    records.forEach(([value, code], i) => {
      if (code === null) return;
      const letter = letters.get(offsets[i]);
      expect(letter, `record ${i}`).toMatchObject({
        code,
        source: { topic: cfg.topics.requests, partition: 0, offset: offsets[i] },
        key: Buffer.from(`k${i}`).toString('base64'),
      });
      expect(letter?.reason.length).toBeGreaterThan(0);
      expect(letter?.value == null ? null : Buffer.from(letter.value, 'base64')).toEqual(value);
    });
  });

  it('switches to a newly published model and says so on results and /state', async () => {
    const cfg = await freshConfig('switch');
    const v1 = await publishModel(cfg, 'recommender', 1);
    const server = await startServer(cfg, `ms-test-${randomUUID()}`);
    const out = await collect(cfg);

    const [first] = await send(cfg, 1, 11);
    await out.until('the first result', () => out.results.length >= 1);
    expectRankedByModel(out.results[0], first.request.user, first.request.products, 1);

    const v2 = await publishModel(cfg, 'recommender1', 2);
    await eventually('the switch to version 2', () => server.currentModel()?.url === v2);
    const after = await send(cfg, 10, 12);
    const [outOfRange] = await sendRaw(cfg, [encodeRequest({ user: 1, products: [1, 900] })]);
    await out.until('11 more results', () => out.results.length >= 12);
    const byId = new Map(out.results.map((r) => [r.requestId, r]));
    for (const s of after) {
      const r = byId.get(s.requestId);
      expectRankedByModel(r, s.request.user, s.request.products, 2);
      expect(r?.model).toMatchObject({ name: 'recommender1', slot: 'recommender1', url: v2 });
    }
    // No popularity ranking is known for version 2: an error result, not a crash.
    expect(byId.get(`${cfg.topics.requests}:0:${outOfRange}`)).toMatchObject({
      outcome: 'error',
      fallback: null,
      error: expect.stringMatching(
        /indices\[1\] = 900 is not in \[0, 300\).*no popularity ranking is known for recommender1 version 2/s,
      ) as unknown,
    });

    const state = (await (await fetch(`${server.url}/state`)).json()) as {
      current: { url: string; version: number };
      models: Record<string, unknown>[];
    };
    expect(state.current).toMatchObject({ url: v2, version: 2 });
    expect(state.models.map((m) => [m.url, m.count, m.until === null])).toEqual([
      [v2, 11, true],
      [v1, 1, false],
    ]);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/model_server_model_version\{name="recommender1",slot="recommender1"\} 2/);
    expect(metrics).not.toMatch(/model_server_model_version\{name="recommender"/);
  });

  it('does not commit a request the slot fails with 5xx, and answers it after recovery (also after a restart)', async () => {
    const cfg = await freshConfig('outage');
    await publishModel(cfg, 'recommender', 1);
    const group = `ms-test-${randomUUID()}`;
    const options: Partial<ModelServerOptions> = {
      retry: { attempts: 2, initialMs: 20, maxMs: 40 },
      cooldown: { initialMs: 200, maxMs: 400 },
    };
    let server = await startServer(cfg, group, options);
    const out = await collect(cfg);
    const topic = cfg.topics.requests;

    const [warmup] = await send(cfg, 1, 21);
    await out.until('the warm-up result', () => out.results.length === 1);
    await eventually('offset 1 committed', async () => (await committedOffset(group, topic)) === '1');

    // Outage while running: retried, paused, retried again; never committed, never answered.
    slot.failWith(503);
    try {
      const callsBefore = slot.calls();
      const [during] = await send(cfg, 1, 22);
      await eventually('several failed rounds', () => slot.calls() - callsBefore >= 6);
      expect(out.results.map((r) => r.requestId)).toEqual([warmup.requestId]);
      expect(await committedOffset(group, topic)).toBe('1');
      expect(await (await fetch(`${server.url}/metrics`)).text()).toMatch(/model_server_unavailable_pauses_total [1-9]/);
      slot.failWith(null);
      await out.until('the delayed result', () => out.results.some((r) => r.requestId === during.requestId));
      expectRankedByModel(
        out.results.find((r) => r.requestId === during.requestId),
        during.request.user,
        during.request.products,
        1,
      );
      await eventually('offset 2 committed', async () => (await committedOffset(group, topic)) === '2');

      // Outage across a restart: the request waits on Kafka for the next server.
      slot.failWith(502);
      const callsBeforeRestart = slot.calls();
      const [acrossRestart] = await send(cfg, 1, 23);
      await eventually('failed attempts', () => slot.calls() - callsBeforeRestart >= 2);
      await server.close();
      expect(await committedOffset(group, topic)).toBe('2');
      expect(out.results.some((r) => r.requestId === acrossRestart.requestId)).toBe(false);
      slot.failWith(null);
      server = await startServer(cfg, group, options);
      await out.until('the result after restart', () => out.results.some((r) => r.requestId === acrossRestart.requestId));
      expectRankedByModel(
        out.results.find((r) => r.requestId === acrossRestart.requestId),
        acrossRestart.request.user,
        acrossRestart.request.products,
        1,
      );
      await eventually('offset 3 committed', async () => (await committedOffset(group, topic)) === '3');
      // Nothing was answered twice.
      expect(new Set(out.results.map((r) => r.requestId)).size).toBe(out.results.length);
    } finally {
      slot.failWith(null);
    }
  });

  it('serves every partition of a multi-partition requests topic', async () => {
    const cfg = await freshConfig('partitions', 3);
    await publishModel(cfg, 'recommender', 1);
    const group = `ms-test-${randomUUID()}`;
    await startServer(cfg, group);
    const out = await collect(cfg);
    const sent = await send(cfg, 60, 41);
    expect(new Set(sent.map((s) => s.partition))).toEqual(new Set([0, 1, 2]));
    await out.until('60 results', () => out.results.length >= 60);
    const byId = new Map(out.results.map((r) => [r.requestId, r]));
    for (const s of sent) expectRankedByModel(byId.get(s.requestId), s.request.user, s.request.products, 1);
    const admin = kafka.admin();
    await admin.connect();
    try {
      await eventually('all partitions committed', async () => {
        const [t] = await admin.fetchOffsets({ groupId: group, topics: [cfg.topics.requests] });
        return [0, 1, 2].every(
          (p) => t.partitions.find((x) => x.partition === p)?.offset === String(sent.filter((s) => s.partition === p).length),
        );
      });
    } finally {
      await admin.disconnect();
    }
  });

  it('with beforeFirstModel "hold", waits for the first model before consuming, then answers what queued up', async () => {
    const cfg = await freshConfig('late-model');
    const server = await startServer(cfg, `ms-test-${randomUUID()}`, { beforeFirstModel: 'hold' });
    const out = await collect(cfg);
    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ model: false, consuming: false, problems: ['waiting for the first model descriptor'] });

    // An unusable descriptor is ignored.
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    await producer.send({
      topic: cfg.topics.models,
      messages: [
        { value: encodeDescriptor({ name: 'x', description: '', url: 'http://nowhere/predict' }) },
        { value: Buffer.from([0xff, 0x01]) },
      ],
    });
    await producer.disconnect();

    const sent = await send(cfg, 5, 31);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(out.results).toHaveLength(0);
    await publishModel(cfg, 'recommender', 1);
    await out.until('5 results', () => out.results.length >= 5);
    for (const s of sent) {
      expectRankedByModel(
        out.results.find((r) => r.requestId === s.requestId),
        s.request.user,
        s.request.products,
        1,
      );
    }
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/model_server_descriptors_rejected_total 2/);
  });

  it('answers requests before the first model from popularity, marked as such, then scores with the model', async () => {
    const cfg = await freshConfig('before-first');
    let known = false;
    const server = await startServer(cfg, `ms-test-${randomUUID()}`, {
      // by default the newest lineage of a configured slot; here: none at first, then version 1's
      loadInitialPopularity: async () => (known ? { slot: 'recommender', version: 1, order: POPULARITY_V1 } : undefined),
    });
    const out = await collect(cfg);
    await server.whenConsuming();
    expect(await (await fetch(`${server.url}/healthz`)).json()).toMatchObject({ model: false, consuming: true });

    // no ranking known yet: the requests wait, uncommitted
    const waiting = await send(cfg, 3, 61);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(out.results).toHaveLength(0);

    known = true;
    const early = [...waiting, ...(await send(cfg, 5, 62))];
    await out.until('8 fallbacks', () => out.results.length >= 8);
    for (const s of early) {
      const r = out.results.find((x) => x.requestId === s.requestId);
      expect(r?.outcome).toBe('fallback');
      if (r?.outcome !== 'fallback') continue;
      expect(r.fallback).toBe('popularity');
      expect(r.reason).toMatch(/no model has been published yet: ranked by the popularity of recommender version 1/);
      // POPULARITY_V1: higher ids more popular
      expect(r.ranked.map((x) => x.product)).toEqual([...s.request.products].sort((a, b) => b - a));
    }

    await publishModel(cfg, 'recommender', 1);
    await eventually('the model in use', () => server.currentModel() !== undefined);
    const later = await send(cfg, 5, 63);
    await out.until('5 scored', () => out.results.length >= 13);
    for (const s of later)
      expectRankedByModel(
        out.results.find((r) => r.requestId === s.requestId),
        s.request.user,
        s.request.products,
        1,
      );
    // answered once each, nothing re-answered by the model
    expect(new Set(out.results.map((r) => r.requestId)).size).toBe(13);
  });

  it('splits a chunk of results whose encoding exceeds the 1 MB message limit, and every result arrives', async () => {
    const cfg = await freshConfig('big-results');
    await publishModel(cfg, 'recommender', 1);
    await startServer(cfg, `ms-test-${randomUUID()}`);
    const out = await collect(cfg);
    const bytes: number[] = [];
    const consumer = kafka.consumer({ groupId: `ms-test-sizes-${randomUUID()}`, maxWaitTimeInMs: 200 });
    await consumer.connect();
    await consumer.subscribe({ topic: cfg.topics.results, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void bytes.push(message.value!.length) });
    cleanups.push(() => consumer.disconnect());
    const sent: SentRequest[] = [];
    await sendRequests({
      kafka,
      topic: cfg.topics.requests,
      count: 400,
      rate: 0,
      seed: 71,
      shape: { users: 1000, products: 300, maxProductsPerRequest: 300 },
      onSent: (s) => sent.push(...s),
    });
    await out.until('400 results', () => out.results.length >= 400, 60_000);
    await eventually('400 sizes', () => bytes.length >= 400);
    // one chunk (the default is 5000 records) whose results could not go in one produce call
    expect(bytes.reduce((a, b) => a + b, 0)).toBeGreaterThan(1024 * 1024);
    const byId = new Map(out.results.map((r) => [r.requestId, r]));
    for (const s of sent) expectRankedByModel(byId.get(s.requestId), s.request.user, s.request.products, 1);
  });

  it('dead-letters a ~1 MB request with its bytes capped (and says so), under the broker limit', async () => {
    const cfg = await freshConfig('big-dead-letter');
    await publishModel(cfg, 'recommender', 1);
    await startServer(cfg, `ms-test-${randomUUID()}`);
    const out = await collect(cfg);
    const sizes: number[] = [];
    const consumer = kafka.consumer({ groupId: `ms-test-dlq-sizes-${randomUUID()}`, maxWaitTimeInMs: 200 });
    await consumer.connect();
    await consumer.subscribe({ topic: cfg.topics.dlq, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => void sizes.push(message.value!.length + (message.key?.length ?? 0)),
    });
    cleanups.push(() => consumer.disconnect());
    // 450,000 ids of two varint bytes each: ~0.9 MB, base64 would be ~1.2 MB
    const huge = encodeRequest({ user: 1, products: Array.from({ length: 450_000 }, (_, i) => 1000 + (i % 2000)) });
    expect(huge.length).toBeGreaterThan(850_000);
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    await producer.send({ topic: cfg.topics.requests, acks: -1, messages: [{ key: '1', value: huge }] });
    await producer.disconnect();
    const after = await send(cfg, 3, 81);
    await out.until('the dead letter', () => out.deadLetters.length >= 1);
    const letter = out.deadLetters[0];
    expect(letter).toMatchObject({ code: 'too-many-products', valueBytes: huge.length, keyBytes: 1, truncated: true });
    expect(Buffer.from(letter.value!, 'base64')).toEqual(huge.subarray(0, 64 * 1024));
    await eventually('its size', () => sizes.length >= 1);
    expect(sizes[0]).toBeLessThan(200 * 1024);
    // and the requests after it are answered
    await out.until('3 results', () => out.results.length >= 3);
    for (const s of after) expect(out.results.find((r) => r.requestId === s.requestId)?.outcome).toBe('scored');
  });

  it('reports a partition that makes no progress on /healthz (a write the broker keeps rejecting)', async () => {
    const cfg = await freshConfig('stalled');
    await publishModel(cfg, 'recommender', 1);
    // writes of up to 8 MB: the broker refuses the batch (over its 1 MB limit) every time
    const server = await startServer(cfg, `ms-test-${randomUUID()}`, { maxWriteBytes: 8 * 1024 * 1024, stallAfterMs: 0 });
    await server.whenConsuming();
    await sendRequests({
      kafka,
      topic: cfg.topics.requests,
      count: 400,
      rate: 0,
      seed: 91,
      shape: { users: 1000, products: 300, maxProductsPerRequest: 300 },
    });
    await eventually('an unhealthy /healthz', async () => (await fetch(`${server.url}/healthz`)).status === 503, 60_000);
    const health = (await (await fetch(`${server.url}/healthz`)).json()) as { ok: boolean; problems: string[] };
    expect(health.ok).toBe(false);
    expect(health.problems.join('\n')).toMatch(/partition .* made no progress .*failed attempts/);
  });
});
