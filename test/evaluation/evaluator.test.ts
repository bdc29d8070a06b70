/**
 * The online evaluator on the real Kafka and MinIO (docs/design.md, "Quality
 * out"): traffic made from the seed's real lines streams onto private
 * results, shadow and purchases topics, the three interleaved at random and
 * hostile records on each; the evaluator's persisted figures equal the
 * batch function over what the topics hold, count for count — with an
 * evaluator process SIGKILLed at random points and restarted, and with an
 * uninterrupted one in another group beside it.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startOnlineEvaluator } from '../../src/evaluation/evaluator';
import { TOPIC_ROLES, type RecordCounts, type TopicRole } from '../../src/evaluation/join-state';
import { killProcess, spawnEntry, stopProcess, waitForLog, type Managed } from '../../src/process/children';
import { loadConfig } from '../../src/config';
import { onlineFigures, readCheckpoints } from '../../src/store/online-figures';
import { EvaluatorRig, hostileBatches, hostileRecords } from './rig';
import { seedTraffic } from './traffic';

const LOG_DIR = path.resolve(__dirname, '../../artifacts/evaluation');

let rig: EvaluatorRig | undefined;
let groups: string[] = [];
const running: Managed[] = [];

afterEach(async () => {
  for (const p of running.splice(0)) await stopProcess(p, 5_000);
  await rig?.cleanUp(groups);
  rig = undefined;
  groups = [];
});

function evaluatorProcess(r: EvaluatorRig, tag: string): Managed {
  const p = spawnEntry(`online-evaluator-${r.id}-${tag}`, 'src/evaluation/main.ts', ['--port', '0'], LOG_DIR, { env: r.env });
  running.push(p);
  return p;
}

const consuming = (p: Managed) => waitForLog(p, /online evaluator consuming/, 60_000);

/** The records each role's checkpoints counted, summed over partitions. */
async function recordCounts(r: EvaluatorRig, group: string): Promise<Record<TopicRole, RecordCounts>> {
  const sum = Object.fromEntries(TOPIC_ROLES.map((role) => [role, { taken: 0, late: 0, duplicate: 0, invalid: 0 }])) as Record<
    TopicRole,
    RecordCounts
  >;
  for (const c of await readCheckpoints(r.store(group)))
    for (const role of TOPIC_ROLES)
      for (const k of Object.keys(sum[role]) as (keyof RecordCounts)[]) sum[role][k] += c.state.records[role][k];
  return sum;
}

describe('online evaluator: stream equals batch on the real stack', () => {
  it('SIGKILLed at random points while the traffic streams and restarted; an uninterrupted run beside it; hostile records skipped', async () => {
    const r = (rig = new EvaluatorRig());
    const steady = `${r.config.evaluator.groupId}-steady`;
    groups = [r.config.evaluator.groupId, steady];
    await r.createTopics(2);
    // the model server upgraded halfway: single shadow records, then batch records
    const traffic = seedTraffic(20_001, 26_001, undefined, { batchFrom: 23_001, partitions: 2 });
    const hostile = hostileRecords();
    hostile.shadows.push(...hostileBatches(2));
    for (const role of TOPIC_ROLES) traffic[role].splice(Math.floor(traffic[role].length / 3), 0, ...hostile[role]);
    const warnings: { message: string; fields?: Record<string, unknown> }[] = [];
    const uninterrupted = await startOnlineEvaluator({
      config: loadConfig({ ...r.env, EVALUATOR_GROUP: steady }),
      port: 0,
      defaultMetrics: false,
      log: (level, message, fields) => void (level === 'warn' && warnings.push({ message, fields })),
    });
    try {
      let current = evaluatorProcess(r, 'a');
      await Promise.all([consuming(current), uninterrupted.whenConsuming()]);
      let done = false;
      const streaming = r.stream(traffic, 400, 150).finally(() => (done = true));
      const kills: number[] = [];
      for (let i = 1; i <= 2; i++) {
        const at = 1_500 + Math.floor(Math.random() * 2_500);
        await sleep(at);
        expect(done, 'the stream is still flowing at each kill').toBe(false);
        kills.push(at);
        await killProcess(current);
        current = evaluatorProcess(r, `restart-${i}`);
        await consuming(current);
      }
      await streaming;
      await Promise.all([r.untilCheckpointed(r.config.evaluator.groupId, 90_000), r.untilCheckpointed(steady, 90_000)]);
      const batch = await r.batch();
      const killed = await onlineFigures(r.store());
      const steadyFigures = await onlineFigures(r.store(steady));
      expect(Object.keys(batch.figures).sort()).toEqual(['recommender/1', 'recommender1/2']);
      expect(batch.figures['recommender/1'].followed).toBeGreaterThan(1000);
      expect(killed, `kills at ${kills.join(', ')} ms`).toEqual(batch.figures);
      expect(steadyFigures).toEqual(batch.figures);
      // the premise of stream equals batch: a continuous replay makes no idle advance (docs/design.md, "Idle partitions")
      for (const g of groups) expect((await readCheckpoints(r.store(g))).filter((c) => c.state.idle)).toEqual([]);
      const counts = await recordCounts(r, r.config.evaluator.groupId);
      expect(await recordCounts(r, steady)).toEqual(counts);
      for (const role of TOPIC_ROLES) expect(counts[role].invalid, role).toBe(batch.invalid[role]);
      // the shadows': 3 records, a batch record, and 4 entries of another
      expect(batch.invalid).toEqual({ results: 3, shadows: 8, purchases: 3 });
      // each named by its offset, the entry's index and the field
      const skipped = warnings.filter((w) => w.message === 'invalid shadow batch entries skipped');
      expect(skipped).toHaveLength(1);
      expect(skipped[0].fields).toMatchObject({
        partition: 0,
        skipped: 4,
        first: expect.stringMatching(/^shadow batch record at offset \d+, entry 0: field user is not a customer of partition 0/),
      });
      const records = warnings.filter((w) => w.message === 'invalid record skipped' && w.fields?.role === 'shadows');
      expect(records.map((w) => w.fields?.error)).toContainEqual(
        expect.stringMatching(/shadow batch record at offset \d+: field entries is not an array/),
      );
      expect(counts.results.duplicate).toBeGreaterThan(0);
      const metrics = await (await fetch(`${uninterrupted.url}/metrics`)).text();
      expect(metrics).toMatch(/online_evaluator_followed_purchases\{version="recommender\/1"\} \d+/);
      expect((await fetch(`${uninterrupted.url}/healthz`)).status).toBe(200);
    } finally {
      await uninterrupted.close();
    }
  }, 300_000);

  it('scales out: two instances of one group over 3 partitions (a round robin would split them), each owning partition p of all three topics', async () => {
    const r = (rig = new EvaluatorRig());
    groups = [r.config.evaluator.groupId];
    await r.createTopics(3);
    const assigned: Record<string, number[]>[] = [];
    const log = (instance: number) => (_level: string, message: string, fields?: Record<string, unknown>) => {
      if (message === 'online evaluator consuming') assigned[instance] = fields?.assigned as Record<string, number[]>;
    };
    const instances = await Promise.all(
      [0, 1].map((i) => startOnlineEvaluator({ config: r.config, port: 0, defaultMetrics: false, log: log(i) })),
    );
    try {
      await Promise.all(instances.map((e) => e.whenConsuming()));
      await r.stream(seedTraffic(30_001, 33_001, undefined, { batchFrom: 31_501, partitions: 3 }), 400, 0);
      await r.untilCheckpointed(r.config.evaluator.groupId, 90_000);
      for (const a of assigned) {
        const sets = Object.values(r.topics).map((t) => JSON.stringify([...(a[t] ?? [])].sort()));
        expect(new Set(sets).size, JSON.stringify(a)).toBe(1);
      }
      const owned = assigned.flatMap((a) => a[r.topics.results] ?? []).sort();
      expect(owned).toEqual([0, 1, 2]);
      const batch = await r.batch();
      expect(await onlineFigures(r.store())).toEqual(batch.figures);
    } finally {
      await Promise.all(instances.map((e) => e.close()));
    }
  }, 180_000);

  it('refuses to start when the topics are not co-partitioned, naming each count', async () => {
    const r = (rig = new EvaluatorRig());
    groups = [r.config.evaluator.groupId];
    await r.createTopics(2);
    const admin = r.kafka.admin();
    await admin.connect();
    await admin.createPartitions({ topicPartitions: [{ topic: r.topics.purchases, count: 3 }] });
    await admin.disconnect();
    const p = evaluatorProcess(r, 'mispartitioned');
    expect(await p.exited).toBe(1);
    await waitForLog(p, new RegExp(`not co-partitioned.*${r.topics.purchases} has 3`), 5_000);
  }, 120_000);
});
