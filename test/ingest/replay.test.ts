/**
 * The replay command on the real Kafka and MinIO: the first part of the
 * seed's file becomes the starting history, the rest arrives through the
 * data publisher, and the compacted history is the file's lines in order;
 * each purchase was preceded by a recommendation request for its customer.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { publishStartingHistory, replay, streamPurchases, VISIT_TOP } from '../../src/cli/replay';
import type { SentRequest } from '../../src/cli/request-client';
import { requestId } from '../../src/messaging/request-id';
import { silentLog } from '../../src/ingest/log';
import { startDataPublisher } from '../../src/ingest/publisher';
import { decodeRequest, type RecommendationRequest } from '../../src/messaging/schemas';
import { getObjectBuffer } from '../../src/storage/objects';
import { compactHistory } from '../../src/store/history-compaction';
import { historyKeys } from '../../src/store/layout';
import { IngestRig, SEED_LINES } from './harness';

let rig: IngestRig | undefined;
afterEach(async () => {
  await rig?.cleanUp();
  rig = undefined;
});

describe('replay', () => {
  it("starting history + streamed purchases = the file, in line order; a request for each purchase's customer", async () => {
    const r = (rig = new IngestRig({ TOPIC_REQUESTS: `mdata-replay-${Math.random().toString(36).slice(2, 8)}` }));
    await r.createTopics(2);
    const file = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'replay-')), 'transactions.csv');
    await fs.writeFile(file, SEED_LINES.slice(0, 1_301).join('\n') + '\n');
    const pub = await startDataPublisher({ config: r.config, port: 0, defaultMetrics: false, log: silentLog });
    try {
      await pub.whenConsuming();
      const result = await replay(r.config, { file, start: 1_000, rate: 0, stepMs: 1_000, replace: false });
      expect(result).toEqual({ baseLines: 1_000, purchases: 300, requests: 300 });
      await expect(replay(r.config, { file, start: 1_000, rate: 0, stepMs: 1_000, replace: false })).rejects.toThrow(/exists/);
      await r.untilIngested(60_000);
    } finally {
      await pub.close();
    }
    const baseKey = historyKeys(r.config.dataPrefix).transactions;
    const { manifest } = await compactHistory(r.store, baseKey, { reorderWindow: 100 });
    const history = (await getObjectBuffer(r.minio, r.store.bucket, manifest.historyKey)).toString('utf8').trimEnd().split('\n');
    expect(history).toEqual(SEED_LINES.slice(0, 1_301));

    const users: number[] = [];
    const visits: RecommendationRequest[] = [];
    const consumer = r.kafka.consumer({ groupId: `replay-reader-${r.id}` });
    await consumer.connect();
    await consumer.subscribe({ topic: r.config.topics.requests, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const request = decodeRequest(message.value as Buffer);
        users.push(request.user);
        visits.push(request);
      },
    });
    for (let i = 0; i < 100 && users.length < 300; i++) await sleep(200);
    await consumer.disconnect();
    expect(users.sort((a, b) => a - b)).toEqual(
      SEED_LINES.slice(1_001, 1_301)
        .map((l) => Number(l.split(',')[0]))
        .sort((a, b) => a - b),
    );
    // each request is a visit: the top 10 of the model's whole catalogue, with its event time just before its purchase
    expect(visits.every((v) => v.products.length === 0 && v.top === VISIT_TOP && (v.timeMs ?? 0) > 0)).toBe(true);
    const admin = r.kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [r.config.topics.requests] });
    await admin.disconnect();
  }, 120_000);

  it("the demo's stream: each visit's id (topic:partition:offset) is its record's; an abort stops the stream", async () => {
    const r = (rig = new IngestRig({ TOPIC_REQUESTS: `mdata-replay-${Math.random().toString(36).slice(2, 8)}` }));
    await r.createTopics(1);
    const admin = r.kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: r.config.topics.requests, numPartitions: 3 }], waitForLeaders: true });
    const file = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'replay-')), 'transactions.csv');
    await fs.writeFile(file, SEED_LINES.slice(0, 1_301).join('\n') + '\n');
    const options = { file, start: 1_000, rate: 100, stepMs: 1_000, replace: false };
    const start = await publishStartingHistory(r.config, options);
    const sent: SentRequest[] = [];
    const abort = new AbortController();
    const result = await streamPurchases(r.config, start, options, {
      signal: abort.signal,
      onRequests: (s) => {
        sent.push(...s);
        if (sent.length >= 100) abort.abort();
      },
    });
    expect(result.purchases).toBe(sent.length);
    expect(sent.length).toBeGreaterThanOrEqual(100);
    expect(sent.length).toBeLessThan(300); // stopped early
    const seen = new Map<string, number>();
    const consumer = r.kafka.consumer({ groupId: `replay-ids-${r.id}` });
    await consumer.connect();
    await consumer.subscribe({ topic: r.config.topics.requests, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ topic, partition, message }) =>
        void seen.set(requestId({ topic, partition, offset: message.offset }), decodeRequest(message.value as Buffer).user),
    });
    for (let i = 0; i < 100 && seen.size < sent.length; i++) await sleep(200);
    await consumer.disconnect();
    expect(seen.size).toBe(sent.length);
    for (const s of sent) expect(seen.get(s.requestId), s.requestId).toBe(s.request.user);
    expect(new Set(sent.map((s) => s.partition)).size).toBeGreaterThan(1);
    await admin.deleteTopics({ topics: [r.config.topics.requests] });
    await admin.disconnect();
  }, 120_000);
});
