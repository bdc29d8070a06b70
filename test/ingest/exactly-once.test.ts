/**
 * The data publisher's exactly-once claim on the real Kafka and MinIO
 * (docs/design.md, "Purchases in"): publishers SIGKILLed at random points
 * while the seed's real purchases stream, restarted, or replaced by another
 * instance; afterwards the compacted history is the replay's source lines,
 * each once and in order, and the DLQ holds exactly the invalid records.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { killProcess, spawnEntry, stopProcess, waitForLog, type Managed } from '../../src/process/children';
import { startDataPublisher } from '../../src/ingest/publisher';
import { silentLog } from '../../src/ingest/log';
import { loadConfig } from '../../src/config';
import { HOSTILE_CODES, IngestRig, LOG_DIR, replayEvents, SEED_LINES } from './harness';

const BASE = 101; // the header and the first 100 lines are the starting history

let rig: IngestRig | undefined;
const running: Managed[] = [];

afterEach(async () => {
  for (const p of running.splice(0)) await stopProcess(p, 5_000);
  await rig?.cleanUp();
  rig = undefined;
});

function publisher(r: IngestRig, tag: string): Managed {
  const p = spawnEntry(`data-publisher-${r.id}-${tag}`, 'src/ingest/main.ts', ['--port', '0'], LOG_DIR, { env: r.env });
  running.push(p);
  return p;
}

const consuming = (p: Managed) => waitForLog(p, /data publisher consuming/, 60_000);

describe('data publisher: exactly once into the history', () => {
  it('SIGKILL at three random points while 20,000 purchases stream, restarted each time', async () => {
    const r = (rig = new IngestRig());
    await r.createTopics(2);
    const sent = replayEvents(BASE, BASE + 20_000, 40);
    let current = publisher(r, 'a');
    await consuming(current);
    let done = false;
    const streaming = r.stream(sent.messages, 250, 400).finally(() => (done = true));
    const kills: number[] = [];
    for (let i = 1; i <= 3; i++) {
      // a random point of a running publisher's life: mid-segment, mid-write or between a write and its commit
      const at = 500 + Math.floor(Math.random() * 2_500);
      await sleep(at);
      expect(done, 'the stream is still flowing at each kill').toBe(false);
      kills.push(at);
      await killProcess(current);
      current = publisher(r, `restart-${i}`);
      await consuming(current);
    }
    await streaming;
    await r.untilIngested(90_000);
    const { lines } = await r.compactedLines(SEED_LINES.slice(0, BASE));
    expect(lines.length, `kills at ${kills.join(', ')} ms`).toBe(sent.expectedLines.length);
    expect(lines).toEqual(sent.expectedLines);
    await r.expectDeadLetters(sent.invalid);
  }, 240_000);

  it('two instances over a 4-partition topic, one killed mid-way', async () => {
    const r = (rig = new IngestRig());
    await r.createTopics(4);
    const sent = replayEvents(BASE, BASE + 20_000, 40);
    const a = publisher(r, 'a');
    const b = publisher(r, 'b');
    await Promise.all([consuming(a), consuming(b)]);
    let done = false;
    const streaming = r.stream(sent.messages, 250, 200).finally(() => (done = true));
    await sleep(3_000 + Math.floor(Math.random() * 4_000));
    expect(done, 'the stream is still flowing at the kill').toBe(false);
    await killProcess(a);
    await streaming;
    await r.untilIngested(90_000);
    const { lines } = await r.compactedLines(SEED_LINES.slice(0, BASE));
    expect(lines).toEqual(sent.expectedLines);
    await r.expectDeadLetters(sent.invalid);
  }, 240_000);

  it('two writers of the same partitions at once (a zombie, split brain): the lost creates re-read the chain', async () => {
    const r = (rig = new IngestRig());
    await r.createTopics(2);
    const sent = replayEvents(BASE, BASE + 10_000, 50);
    // different consumer groups: both consume every partition, with different segment sizes, so they race at every segment
    const configs = [
      loadConfig({ ...r.env, PURCHASES_GROUP: `${r.config.purchases.groupId}-x`, SEGMENT_MAX_PURCHASES: '400' }),
      loadConfig({ ...r.env, PURCHASES_GROUP: `${r.config.purchases.groupId}-y`, SEGMENT_MAX_PURCHASES: '170' }),
    ];
    const pubs = await Promise.all(configs.map((config) => startDataPublisher({ config, port: 0, defaultMetrics: false, log: silentLog })));
    try {
      await Promise.all(pubs.map((p) => p.whenConsuming()));
      await r.stream(sent.messages, 250, 20);
      await r.untilIngested(60_000);
      const { lines } = await r.compactedLines(SEED_LINES.slice(0, BASE));
      expect(lines).toEqual(sent.expectedLines);
      const conflicts = await Promise.all(
        pubs.map(async (p) => (await p.metrics.getSingleMetric('data_publisher_segment_conflicts_total')?.get())?.values[0]?.value ?? 0),
      );
      expect(conflicts[0] + conflicts[1]).toBeGreaterThan(0);
    } finally {
      await Promise.all(pubs.map((p) => p.close()));
    }
  }, 180_000);

  it('1,000 hostile records among valid ones: dead letters with reasons, the history unchanged by them', async () => {
    const r = (rig = new IngestRig());
    await r.createTopics(1);
    const sent = replayEvents(BASE, BASE + 5_000, 5); // 1,000 invalid among 5,000 valid
    expect(sent.invalid.size).toBe(1_000);
    const pub = await startDataPublisher({ config: r.config, port: 0, defaultMetrics: false, log: silentLog });
    try {
      await pub.whenConsuming();
      await r.stream(sent.messages, 500, 0);
      await r.untilIngested(60_000);
      expect(pub.health().ok).toBe(true);
    } finally {
      await pub.close();
    }
    const { lines } = await r.compactedLines(SEED_LINES.slice(0, BASE));
    expect(lines).toEqual(sent.expectedLines);
    const letters = await r.deadLetters(1_000);
    expect(letters.size).toBe(1_000);
    const codes = new Map<string, number>();
    for (const l of letters.values()) codes.set(l.code, (codes.get(l.code) ?? 0) + 1);
    expect([...codes.keys()].sort()).toEqual([...HOSTILE_CODES].sort());
    await r.expectDeadLetters(sent.invalid);
  }, 180_000);

  it('/healthz fails while MinIO cannot be used (a missing bucket); the partition waits and then ingests without loss', async () => {
    const bucket = `ingest-missing-${randomUUID().slice(0, 8)}`;
    const r = (rig = new IngestRig({ DATA_BUCKET: bucket, SEGMENT_MAX_PURCHASES: '100' }));
    await r.createTopics(1);
    const sent = replayEvents(BASE, BASE + 1_000, 0);
    const pub = await startDataPublisher({ config: r.config, port: 0, stallAfterMs: 1_000, defaultMetrics: false, log: silentLog });
    try {
      await pub.whenConsuming();
      await r.stream(sent.messages, 500, 0);
      const end = Date.now() + 30_000;
      while (pub.health().ok && Date.now() < end) await sleep(200);
      const health = await fetch(`${pub.url}/healthz`);
      expect(health.status).toBe(503);
      expect(((await health.json()) as { problems: string[] }).problems.join('\n')).toMatch(/partition 0: .*bucket does not exist/);
      await r.minio.makeBucket(bucket, r.config.minio.region); // the store is back
      await r.untilIngested(60_000);
      expect((await fetch(`${pub.url}/healthz`)).status).toBe(200);
    } finally {
      await pub.close();
    }
    const { lines } = await r.compactedLines(SEED_LINES.slice(0, BASE));
    expect(lines).toEqual(sent.expectedLines);
    await r.cleanUp();
    rig = undefined;
    await r.minio.removeBucket(bucket);
  }, 120_000);
});
