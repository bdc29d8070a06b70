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
}) {
  const sends: ProducerBatch[] = [];
  const commits: string[] = [];
  const resolved: string[] = [];
  const events: string[] = [];
  let paused = 0;
  let resumed = 0;
  // Only sendBatch is used by the processor; the rest of Producer is not needed here.
  const producer = {
    sendBatch: async (batch: ProducerBatch) => {
      if (options.failSend) throw new Error('broker down');
      sends.push(batch);
      events.push('send');
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
  return { run, sends, commits, resolved, events, processor, usage, paused: () => paused, resumed: () => resumed };
}

const scored = async (r: RecommendationRequest): Promise<ScoreOutcome> => ({
  kind: 'answered',
  model,
  body: { outcome: 'scored', ranked: r.products.map((product) => ({ product, score: 1 / (product + 1) })) },
  retries: 0,
});

const valid = (user: number) => encodeRequest({ user, products: [1, 2] });

describe('request processor', () => {
  it('writes each chunk, then commits its end, in offset order; bad records go to the DLQ in place', async () => {
    const h = harness({ concurrency: 2, chunkSize: 2, score: scored });
    await h.run([
      record(10, valid(0)),
      record(11, Buffer.from([0xff, 0xff])),
      record(12, valid(2)),
      record(13, valid(3)),
      record(14, valid(4)),
    ]);
    expect(h.events).toEqual(['send', 'commit 12', 'send', 'commit 14', 'send', 'commit 15']);
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

  it('commits nothing when the results cannot be written', async () => {
    const h = harness({ concurrency: 2, chunkSize: 5, score: scored, failSend: true });
    await expect(h.run([record(1, valid(1)), record(2, valid(2))])).rejects.toThrow('broker down');
    expect(h.commits).toEqual([]);
    expect(h.resolved).toEqual([]);
  });
});
