/**
 * Visits and shadows on the real stack (issue 23, serving side): two real
 * slots serving SavedModels from MinIO (TF's loader), lineage (table sizes,
 * popularity) in MinIO, the model server on the local Kafka.
 *  - a visit (top 10, no products) is answered with the best 10 of the whole
 *    catalogue, scored in several predict calls (a small row limit);
 *    a seed-style request is answered as before;
 *  - every scored answer has a popularity shadow with its request id, on the
 *    shadow topic only, in batch records (several answers each), each record
 *    on the partition of every customer in it: the partition where that
 *    customer's results are (3 partitions); the sampled share has a
 *    previous-model shadow scored by the standby slot's version;
 *  - with the standby slot stopped, the answers are all there and the same,
 *    and the sampled shadows are counted as dropped.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Partitioners } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../src/config';
import { createKafka, ensureTopics } from '../../src/messaging/kafka';
import { predictUrlFor } from '../../src/messaging/predict-url';
import { decodeResult, type RecommendationResult, type ScoredResult } from '../../src/messaging/result';
import { encodeDescriptor, encodeRequest, type RecommendationRequest } from '../../src/messaging/schemas';
import { customerPartition } from '../../src/messaging/customer-partition';
import { decodeShadowRecord, type ShadowKind, type SlotVersion } from '../../src/messaging/shadow-result';
import { exportSavedModel } from '../../src/savedmodel';
import { startModelServer, silentLog, type ModelServer } from '../../src/serving/model-server';
import { createPredictClient } from '../../src/serving/model-server/predict-client';
import { rankByPopularity, rankByScore } from '../../src/serving/model-server/ranking';
import { sampledForShadow } from '../../src/serving/model-server/shadows';
import { startSlotServer, type SlotServer } from '../../src/serving/slot/server';
import { createMinioClient } from '../../src/storage/minio-client';
import { publishLineage } from '../../src/store/lineage';
import { removePrefix, tempDir, uploadVersionDir } from '../helpers/minio';
import { randomWeights } from '../helpers/network';

const USERS = 60;
const PRODUCTS = 40;
/** the lineage's popularity: every third product, then the others (some products unknown to it) */
const POPULAR = Array.from({ length: PRODUCTS }, (_, i) => (i * 7) % PRODUCTS).slice(0, 30);
const SHARE = 0.5;
/** partitions of the results and shadow topics (the requests have one: their ids are `<topic>:0:<offset>`) */
const PARTITIONS = 3;

const base = loadConfig();
const minio = createMinioClient(base.minio);
const kafka = createKafka(base.kafka, '-shadows-test');
const predict = createPredictClient();
const id = randomUUID().slice(0, 8);
const slotNames = [`sh${id}a`, `sh${id}b`] as const;
let slots: SlotServer[] = [];
let work: string;
let cfg: Config;
let server: ModelServer;

async function untilTrue(what: string, check: () => Promise<boolean> | boolean, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** slot i serves `version` of its own weights; its lineage says its tables and popularity */
async function deploy(i: 0 | 1, version: number): Promise<void> {
  const dir = path.join(work, `v${version}`);
  await exportSavedModel(randomWeights(USERS, PRODUCTS, 8, 6, version, 'sigmoid'), dir);
  await uploadVersionDir(minio, base.buckets.models, slotNames[i], version, dir);
  await publishLineage(minio, {
    bucket: base.buckets.models,
    slot: slotNames[i],
    version,
    metadata: { userRows: USERS, productRows: PRODUCTS, popularProducts: POPULAR },
    metrics: {},
  });
  await untilTrue(`slot ${slotNames[i]} serving version ${version}`, async () => {
    const res = await fetch(`${slots[i].url}/v1/models/${slotNames[i]}`).catch(() => undefined);
    const body = (await res?.json().catch(() => undefined)) as { model_version_status?: { version: string; state: string }[] } | undefined;
    return body?.model_version_status?.some((s) => s.version === String(version) && s.state === 'AVAILABLE') ?? false;
  });
}

beforeAll(async () => {
  work = await tempDir('shadows-test');
  slots = await Promise.all(
    slotNames.map((name) =>
      startSlotServer({ name, host: '127.0.0.1', port: 0, client: minio, bucket: base.buckets.models, pollIntervalMs: 200 }),
    ),
  );
  await deploy(0, 1); // the standby: the previous version
  await deploy(1, 2); // the active slot
  cfg = loadConfig({
    ...process.env,
    TOPIC_REQUESTS: `sh-${id}-mdata`,
    TOPIC_MODELS: `sh-${id}-models`,
    TOPIC_RESULTS: `sh-${id}-recommendations`,
    TOPIC_SHADOWS: `sh-${id}-recommendations-shadow`,
    TOPIC_DLQ: `sh-${id}-mdata-dlq`,
    SLOT_NAMES: slotNames.join(','),
    SLOT_HOST: '127.0.0.1',
    SLOT_PORTS: slots.map((s) => new URL(s.url).port).join(','),
  });
  const { requests, models, ...customerKeyed } = cfg.topics;
  await ensureTopics(kafka, { requests, models });
  await ensureTopics(kafka, customerKeyed, PARTITIONS);
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  // deployed as the pipeline does: version 1 to the first slot, then version 2 to the second (which replaced version 1)
  const url = predictUrlFor(slots[1].url, slotNames[1], 2);
  await producer.send({
    topic: cfg.topics.models,
    acks: -1,
    messages: [
      { value: encodeDescriptor({ name: 'previous', description: 'v1', url: predictUrlFor(slots[0].url, slotNames[0], 1) }) },
      { value: encodeDescriptor({ name: 'active', description: 'v2', url }) },
    ],
  });
  await producer.disconnect();
  server = await startModelServer({
    config: cfg,
    port: 0,
    groupId: `sh-${id}`,
    log: silentLog,
    defaultMetrics: false,
    // 16 rows a call: a visit's 40 products take three calls
    maxPredictRows: 16,
    shadowShare: SHARE,
  });
  await untilTrue('the model', () => server.currentModel()?.version === 2);
}, 240_000);

afterAll(async () => {
  await server?.close();
  for (const s of slots) await s.close().catch(() => undefined);
  predict.close();
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: Object.values(cfg.topics) }).catch(() => undefined);
  await admin.disconnect();
  for (const name of slotNames) {
    await removePrefix(minio, base.buckets.models, `${name}/`);
    await removePrefix(minio, base.buckets.models, `lineage/${name}/`);
  }
  await fs.rm(work, { recursive: true, force: true });
});

/** A shadow answer as read back: which record form carried it, on which partition. */
interface ReadShadow {
  requestId: string;
  user: number;
  shadow: ShadowKind;
  servedBy: SlotVersion;
  model: SlotVersion;
  products: number[];
  form: 'single' | 'batch';
  partition: number;
  /** the offset of its record (one record a batch) */
  offset: string;
}

function readShadows(value: Buffer, partition: number, offset: string): ReadShadow[] {
  const record = decodeShadowRecord(value);
  const at = { partition, offset };
  if (record.schema === 1) {
    const { requestId, user, shadow, servedBy, model, ranked } = record;
    return [{ requestId, user, shadow, servedBy, model, products: ranked.map((r) => r.product), form: 'single', ...at }];
  }
  const { shadow, servedBy, model } = record;
  return record.entries.map((e) => ({ ...e, shadow, servedBy, model, form: 'batch', ...at }));
}

/** Sends requests and collects every result and shadow of them (by request id), until each request has its result. */
async function run(
  requests: RecommendationRequest[],
): Promise<{ results: ScoredResult[]; shadows: ReadShadow[]; resultPartitions: Map<string, number> }> {
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const [meta] = await producer.send({
    topic: cfg.topics.requests,
    acks: -1,
    messages: requests.map((r) => ({ key: String(r.user), value: encodeRequest(r) })),
  });
  await producer.disconnect();
  const first = BigInt(meta.baseOffset!);
  const ids = new Set(requests.map((_, i) => `${cfg.topics.requests}:0:${first + BigInt(i)}`));
  const results: RecommendationResult[] = [];
  const resultPartitions = new Map<string, number>();
  const shadows: ReadShadow[] = [];
  const leaked: unknown[] = [];
  const consumer = kafka.consumer({ groupId: `sh-reader-${randomUUID()}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topics: [cfg.topics.results, cfg.topics.shadows], fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ topic, partition, message }) => {
      if (topic === cfg.topics.shadows) return void shadows.push(...readShadows(message.value!, partition, message.offset));
      // a shadow record on the results topic (no outcome, a `shadow` field) is a leak: kept to fail the test
      const json = JSON.parse(message.value!.toString()) as Record<string, unknown>;
      if ('shadow' in json) leaked.push(json);
      else {
        const result = decodeResult(message.value!);
        results.push(result);
        resultPartitions.set(result.requestId, partition);
      }
    },
  });
  try {
    await untilTrue('the results', () => results.filter((r) => ids.has(r.requestId)).length >= requests.length);
    await new Promise((r) => setTimeout(r, 1500)); // the queued previous-model shadows
  } finally {
    await consumer.disconnect();
  }
  expect(leaked).toEqual([]);
  // in request order (the results of several partitions arrive interleaved)
  const offsetOf = (r: RecommendationResult) => BigInt(r.requestId.split(':')[2]);
  const mine = results.filter((r) => ids.has(r.requestId)).sort((a, b) => (offsetOf(a) < offsetOf(b) ? -1 : 1));
  expect(mine.every((r) => r.outcome === 'scored')).toBe(true);
  return { results: mine as ScoredResult[], shadows: shadows.filter((s) => ids.has(s.requestId)), resultPartitions };
}

const seedStyle = (n: number, seed: number): RecommendationRequest[] =>
  Array.from({ length: n }, (_, i) => ({
    user: (i * 7 + seed) % USERS,
    products: Array.from({ length: 5 }, (_, j) => (i * 3 + j * 8 + seed) % PRODUCTS),
  }));

async function modelRanking(slot: 0 | 1, version: number, user: number, products: number[]) {
  const outcome = await predict.predict(predictUrlFor(slots[slot].url, slotNames[slot], version), user, products);
  if (outcome.kind !== 'ok') throw new Error(outcome.error);
  return rankByScore(products, outcome.scores);
}

async function dropMetric(reason: string): Promise<number> {
  const metric = await server.metrics.getSingleMetric('model_server_shadow_drops_total')!.get();
  return metric.values.find((v) => v.labels.reason === reason)?.value ?? 0;
}

const catalogue = Array.from({ length: PRODUCTS }, (_, i) => i);
let firstAnswers: ScoredResult[];

describe('visits and shadows (real slots, Kafka, MinIO)', () => {
  it('a visit gets the best 10 of the whole catalogue; a seed-style request is answered as before; each has a popularity shadow', async () => {
    const visit: RecommendationRequest = { user: 7, products: [], top: 10, timeMs: 1_700_000_000_000 };
    const seed = seedStyle(1, 3)[0];
    const { results, shadows } = await run([visit, seed]);
    const [v, s] = results;
    expect(v.ranked).toEqual((await modelRanking(1, 2, 7, catalogue)).slice(0, 10));
    expect(v.eventTime).toBe(1_700_000_000_000);
    expect(s.ranked).toEqual(await modelRanking(1, 2, seed.user, seed.products));
    expect(s.eventTime).toBe(s.requestTimestamp);
    const popularity = shadows.filter((x) => x.shadow === 'popularity');
    const ids = (ranked: { product: number }[]) => ranked.map((r) => r.product);
    expect(popularity.find((x) => x.requestId === v.requestId)?.products).toEqual(ids(rankByPopularity(catalogue, POPULAR).slice(0, 10)));
    expect(popularity.find((x) => x.requestId === s.requestId)?.products).toEqual(ids(rankByPopularity(seed.products, POPULAR)));
  }, 120_000);

  it('shadows go to the shadow topic only: a popularity shadow per answer, previous-model shadows for the sampled share', async () => {
    const requests = seedStyle(120, 1);
    const { results, shadows } = await run(requests);
    firstAnswers = results;
    expect(results).toHaveLength(requests.length);
    const popularity = shadows.filter((x) => x.shadow === 'popularity');
    expect(popularity.map((x) => x.requestId).sort()).toEqual(results.map((r) => r.requestId).sort());
    for (const p of popularity) expect(p).toMatchObject({ model: { slot: slotNames[1], version: 2 }, servedBy: { version: 2 } });
    const sampled = results.filter((r) => sampledForShadow(r.requestId, SHARE));
    expect(sampled.length).toBeGreaterThan(30);
    const previous = shadows.filter((x) => x.shadow === 'previous-model');
    expect(previous.map((x) => x.requestId).sort()).toEqual(sampled.map((r) => r.requestId).sort());
    for (const p of previous.slice(0, 10)) {
      expect(p.model).toEqual({ slot: slotNames[0], version: 1 });
      const request = requests[results.findIndex((r) => r.requestId === p.requestId)];
      expect(p.form).toBe('single');
      expect(p.products).toEqual((await modelRanking(0, 1, request.user, request.products)).map((r) => r.product));
    }
  }, 120_000);

  it("a chunk's popularity shadows arrive as batch records, each on the partition of every customer in it (where their results are)", async () => {
    // 60 customers, 3 partitions: every record groups the customers of one partition
    const { results, shadows, resultPartitions } = await run(seedStyle(180, 2));
    const popularity = shadows.filter((x) => x.shadow === 'popularity');
    expect(popularity.map((x) => x.requestId).sort()).toEqual(results.map((r) => r.requestId).sort());
    expect(popularity.every((x) => x.form === 'batch')).toBe(true);
    const records = new Map<string, ReadShadow[]>();
    for (const x of popularity) records.set(`${x.partition}:${x.offset}`, [...(records.get(`${x.partition}:${x.offset}`) ?? []), x]);
    // several answers a record: far fewer records than answers
    expect(records.size).toBeLessThanOrEqual(results.length / 4);
    for (const x of popularity) {
      expect(customerPartition(x.user, PARTITIONS), `customer ${x.user}`).toBe(x.partition);
      expect(resultPartitions.get(x.requestId), `the result of ${x.requestId}`).toBe(x.partition);
    }
    expect(new Set(popularity.map((x) => x.partition)).size).toBe(PARTITIONS);
    // entries in the order the answers were served (request offsets ascend within a record)
    for (const entries of records.values()) {
      const offsets = entries.map((e) => Number(e.requestId.split(':')[2]));
      expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
    }
  }, 120_000);

  it('with the standby slot stopped, every answer is there and the same; the sampled shadows are counted as dropped', async () => {
    await slots[0].close();
    const before = await dropMetric('standby-unavailable');
    const requests = seedStyle(120, 1);
    const { results, shadows } = await run(requests);
    expect(results.map((r) => r.ranked)).toEqual(firstAnswers.map((r) => r.ranked));
    expect(shadows.filter((x) => x.shadow === 'previous-model')).toEqual([]);
    expect(shadows.filter((x) => x.shadow === 'popularity')).toHaveLength(requests.length);
    const sampled = results.filter((r) => sampledForShadow(r.requestId, SHARE)).length;
    expect((await dropMetric('standby-unavailable')) - before).toBe(sampled);
  }, 120_000);
});
