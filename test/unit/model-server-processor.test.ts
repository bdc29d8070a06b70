/**
 * The batch handler's ordering and commit rules, with a recording producer
 * and a hand-driven kafkajs batch payload (the Kafka path itself is covered
 * by test/serving/model-server.test.ts).
 */
import type { EachBatchPayload, KafkaMessage, Offsets, Producer, ProducerBatch } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { encodeRequest, type RecommendationRequest } from '../../src/messaging/schemas';
import { checkDescriptor, type ActiveModel } from '../../src/serving/model-server/current-model';
import { decodeDeadLetter } from '../../src/messaging/dead-letter';
import { silentLog } from '../../src/process/json-log';
import { createMetrics } from '../../src/serving/model-server/metrics';
import { createRequestProcessor } from '../../src/serving/model-server/request-processor';
import { decodeResult } from '../../src/messaging/result';
import { decodeShadowRecord, type ShadowBatch } from '../../src/messaging/shadow-result';
import type { ScoreOutcome } from '../../src/serving/model-server/scoring';
import { UsageStats } from '../../src/serving/model-server/usage-stats';

const checked = checkDescriptor({ name: 'r', description: '', url: 'http://h/v1/models/r/versions/3:predict' });
if (!checked.ok) throw new Error(checked.reason);
const model: ActiveModel = { ...checked.model, since: new Date() };

function record(offset: number, value: Buffer | null): KafkaMessage {
  return {
    key: Buffer.from(`k${offset}`),
    value,
    offset: String(offset),
    timestamp: '1700000000000',
    attributes: 0,
    headers: {},
  } as KafkaMessage;
}

function harness(options: {
  concurrency: number;
  chunkSize: number;
  score: (r: RecommendationRequest) => Promise<ScoreOutcome>;
  failSend?: boolean;
  /** a popularity ranking: popularity shadows on the topic `shadows` */
  popularity?: number[];
  /** awaited by each write of shadows before it is acknowledged (or fails) */
  shadowWrite?: () => Promise<void>;
}) {
  const sends: ProducerBatch[] = [];
  const commits: string[] = [];
  const resolved: string[] = [];
  const events: string[] = [];
  const topicsSent: string[] = [];
  let paused = 0;
  let resumed = 0;
  // Only sendBatch is used by the processor; the rest of Producer is not needed here.
  const producer = {
    sendBatch: async (batch: ProducerBatch) => {
      if (options.failSend) throw new Error('broker down');
      const topics = batch.topicMessages!.map((t) => t.topic).join('+');
      if (topics === 'shadows' && options.shadowWrite) {
        events.push('shadows sent');
        await options.shadowWrite();
      }
      sends.push(batch);
      events.push('send');
      topicsSent.push(topics);
      return [];
    },
  } as unknown as Producer;
  const usage = new UsageStats();
  usage.switchedTo(model, undefined);
  const processor = createRequestProcessor({
    topics: { results: 'results', dlq: 'dlq' },
    producer,
    limits: { maxProducts: 10 },
    chunkSize: options.chunkSize,
    // the per-request fakes scored side by side, as one batch
    score: (requests) => Promise.all(requests.map((r) => options.score(r))),
    cooldown: { initialMs: 5, maxMs: 5 },
    ...(options.popularity && {
      shadows: { topic: 'shadows', producer, partitions: async () => 1, loadPopularity: async () => options.popularity },
    }),
    metrics: createMetrics({ defaultMetrics: false }),
    usage,
    log: silentLog,
  });
  const run = (messages: KafkaMessage[]): Promise<void> =>
    processor.eachBatch({
      batch: { topic: 'mdata', partition: 0, messages },
      resolveOffset: (o: string) => resolved.push(o),
      heartbeat: async () => undefined,
      pause: () => {
        paused++;
        return () => resumed++;
      },
      commitOffsetsIfNecessary: async (offsets?: Offsets) => {
        const committed = offsets!.topics[0].partitions[0].offset;
        commits.push(committed);
        events.push(`commit ${committed}`);
      },
      uncommittedOffsets: () => ({ topics: [] }),
      isRunning: () => true,
      isStale: () => false,
    } as unknown as EachBatchPayload); // a partial Batch: the processor reads topic, partition and messages only
  return { run, sends, commits, resolved, events, topicsSent, processor, usage, paused: () => paused, resumed: () => resumed };
}

const scored = async (r: RecommendationRequest): Promise<ScoreOutcome> => ({
  kind: 'answered',
  model,
  body: { outcome: 'scored', ranked: r.products.map((product) => ({ product, score: 1 / (product + 1) })) },
  retries: 0,
});

const valid = (user: number) => encodeRequest({ user, products: [1, 2] });

describe('request processor', () => {
  it('writes each chunk, then commits (after it) the end of the chunks written so far, in offset order; bad records go to the DLQ in place', async () => {
    const h = harness({ concurrency: 2, chunkSize: 2, score: scored });
    await h.run([
      record(10, valid(0)),
      record(11, Buffer.from([0xff, 0xff])),
      record(12, valid(2)),
      record(13, valid(3)),
      record(14, valid(4)),
    ]);
    await h.processor.settled();
    // the chunks answered in one go, then one commit covers them (commits wait for a chunk's shadows, off the answer's path)
    expect(h.events).toEqual(['send', 'send', 'send', 'commit 15']);
    expect(h.resolved).toEqual(['10', '11', '12', '13', '14']);
    const results = h.sends.flatMap((b) => b.topicMessages!.filter((t) => t.topic === 'results').flatMap((t) => t.messages));
    expect(results.map((m) => decodeResult(m.value as Buffer).source.offset)).toEqual(['10', '12', '13', '14']);
    const letters = h.sends.flatMap((b) => b.topicMessages!.filter((t) => t.topic === 'dlq').flatMap((t) => t.messages));
    expect(letters.map((m) => decodeDeadLetter(m.value as Buffer))).toMatchObject([{ code: 'undecodable', source: { offset: '11' } }]);
    expect(h.processor.deadLetters()).toBe(1);
    expect(h.usage.snapshot()[0].count).toBe(4);
  });

  it('stops at a request the slot could not answer: earlier ones are written and committed, later ones are not', async () => {
    const h = harness({
      concurrency: 3,
      chunkSize: 10,
      score: async (r) => {
        if (r.user === 2) {
          await new Promise((res) => setTimeout(res, 30)); // finishes after 3 and 4
          return { kind: 'unavailable', model, error: 'HTTP 503', retries: 3 };
        }
        return scored(r);
      },
    });
    await h.run([0, 1, 2, 3, 4, 5, 6].map((u) => record(20 + u, valid(u))));
    await h.processor.settled();
    const written = h.sends.flatMap((b) => b.topicMessages!.flatMap((t) => t.messages)).map((m) => decodeResult(m.value as Buffer).user);
    expect(written).toEqual([0, 1]);
    expect(h.commits).toEqual(['22']); // the next offset to read is the stuck request
    expect(h.resolved).toEqual(['20', '21']);
    expect(h.paused()).toBe(1);
    await new Promise((res) => setTimeout(res, 50));
    expect(h.resumed()).toBe(1);
  });

  it('pauses without writing anything when the first request is stuck, and cancels the resume on close', async () => {
    const h = harness({ concurrency: 1, chunkSize: 10, score: async () => ({ kind: 'unavailable', model, error: 'down', retries: 0 }) });
    await h.run([record(5, valid(1)), record(6, valid(2))]);
    expect(h.sends).toEqual([]);
    expect(h.commits).toEqual([]);
    expect(h.paused()).toBe(1);
    h.processor.close();
    await new Promise((res) => setTimeout(res, 30));
    expect(h.resumed()).toBe(0);
  });

  it("answers the next chunks while earlier chunks' popularity shadows are written; commits a chunk only once its shadows are", async () => {
    let release: () => void = () => undefined;
    const acked = new Promise<void>((resolve) => (release = resolve));
    const h = harness({ concurrency: 2, chunkSize: 2, score: scored, popularity: [2, 1], shadowWrite: () => acked });
    await h.run([record(10, valid(0)), record(11, Buffer.from([0xff])), record(12, valid(2))]);
    await new Promise((res) => setImmediate(res));
    // both chunks answered (results alone in their produce calls), then their shadows in one write, in flight; nothing committed
    expect(h.events).toEqual(['send', 'send', 'shadows sent']);
    expect(h.topicsSent).toEqual(['results+dlq', 'results']);
    expect(h.resolved).toEqual(['10', '11', '12']);
    await h.run([record(13, valid(3))]);
    expect(h.topicsSent).toEqual(['results+dlq', 'results', 'results']); // the next batch is answered meanwhile
    expect(h.commits).toEqual([]);
    release();
    await h.processor.settled();
    expect(h.commits).toEqual(['13', '14']);
    expect(h.topicsSent).toEqual(['results+dlq', 'results', 'results', 'shadows', 'shadows']);
    // one batch record a round: the first round's two chunks share one
    const shadows = h.sends.flatMap((b) => b.topicMessages!.filter((t) => t.topic === 'shadows').flatMap((t) => t.messages));
    const batches = shadows.map((m) => ({ partition: m.partition, ...(decodeShadowRecord(m.value as Buffer) as ShadowBatch) }));
    expect(batches).toMatchObject([
      {
        partition: 0,
        schema: 2,
        shadow: 'popularity',
        model: { slot: 'r', version: 3 },
        entries: [{ requestId: 'mdata:0:10' }, { requestId: 'mdata:0:12' }],
      },
      { partition: 0, schema: 2, shadow: 'popularity', entries: [{ requestId: 'mdata:0:13' }] },
    ]);
    expect(batches.flatMap((b) => b.entries)).toMatchObject([
      { requestId: 'mdata:0:10', user: 0, products: [2, 1] },
      { requestId: 'mdata:0:12', user: 2, products: [2, 1] },
      { requestId: 'mdata:0:13', user: 3, products: [2, 1] },
    ]);
  });

  it('commits nothing from chunks whose shadows failed, and refuses later batches until the partition is fetched from them again', async () => {
    let shadowWrites = 0;
    const h = harness({
      concurrency: 2,
      chunkSize: 1,
      score: scored,
      popularity: [1, 2],
      shadowWrite: async () => {
        if (++shadowWrites === 2) throw new Error('shadow topic down'); // the second batch's shadows, once
      },
    });
    await h.run([record(10, valid(0))]);
    await h.processor.settled();
    expect(h.commits).toEqual(['11']);
    await h.run([record(11, valid(1)), record(12, valid(2))]);
    await h.processor.settled();
    expect(h.commits).toEqual(['11']); // not 12 nor 13: their shadows failed
    await expect(h.run([record(13, valid(3))])).rejects.toThrow(/shadows of mdata\|0 from offset 11 were not written/);
    expect(h.commits).toEqual(['11']);
    // kafkajs restarted the consumer: the partition is fetched again from the last commit, re-answered and re-shadowed
    await h.run([record(11, valid(1)), record(12, valid(2)), record(13, valid(3))]);
    await h.processor.settled();
    expect(h.commits).toEqual(['11', '14']);
  });

  it('commits nothing when the results cannot be written', async () => {
    const h = harness({ concurrency: 2, chunkSize: 5, score: scored, failSend: true });
    await expect(h.run([record(1, valid(1)), record(2, valid(2))])).rejects.toThrow('broker down');
    expect(h.commits).toEqual([]);
    expect(h.resolved).toEqual([]);
  });
});
