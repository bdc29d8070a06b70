/**
 * The idle advance on the real Kafka and MinIO (docs/design.md, "Quality
 * out", idle partitions): traffic made from the seed's real lines is sent,
 * then nothing. Once checkpointed, the purchases of the last grace still
 * wait (the results' mark has not passed them); once the partition has been
 * caught up and quiet for EVALUATOR_IDLE_MS of wall clock, and not before,
 * they are counted: the figures are then the batch function's with its marks
 * past every record. A purchase that comes afterwards at an event time the
 * advance closed is late — also after a restart, which reads the advance
 * from the checkpoint.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startOnlineEvaluator, type OnlineEvaluator } from '../../src/evaluation/evaluator';
import { TOPIC_ROLES } from '../../src/evaluation/join-state';
import { silentLog } from '../../src/process/json-log';
import { encodePurchase } from '../../src/messaging/schemas';
import { onlineFigures, readCheckpoints, type Checkpoint } from '../../src/store/online-figures';
import { until } from '../helpers/processes';
import type { PartitionRecords } from '../../src/evaluation/batch';
import { EvaluatorRig } from './rig';
import { SEED_LINES, seedTraffic, T0 } from './traffic';

const IDLE_MS = 4_000;
const FROM = 61_001;
const TO = 61_301;

let rig: EvaluatorRig | undefined;
const running: OnlineEvaluator[] = [];
afterEach(async () => {
  for (const e of running.splice(0)) await e.close().catch(() => undefined);
  await rig?.cleanUp();
  rig = undefined;
});

/** Purchases taken and not yet final (attributed or not), summed over the partitions' heads. */
const waiting = (heads: Checkpoint[]) =>
  heads.reduce((n, c) => n + c.state.records.purchases.taken - c.state.purchases.attributed - c.state.purchases.unattributed, 0);
const sum = (heads: Checkpoint[], of: (c: Checkpoint) => number) => heads.reduce((n, c) => n + of(c), 0);

/** Each partition's records plus a result and a purchase far ahead in event time: the batch's marks then pass every real record. */
function pastEverything(p: PartitionRecords): void {
  const far = T0 + 365 * 86_400_000;
  p.results.push({ requestId: 'sentinel', user: 0, eventTime: far, slot: 'sentinel', version: null, top: [] });
  p.purchases.push({ id: 'sentinel', user: 0, eventTime: far, products: [] });
}

describe('online evaluator: the idle advance', () => {
  it('counts the last grace of purchases once the partition has been caught up and quiet for the idle time, not before', async () => {
    const r = (rig = new EvaluatorRig({ EVALUATOR_IDLE_MS: String(IDLE_MS) }));
    await r.createTopics(2);
    const start = async () => {
      const e = await startOnlineEvaluator({ config: r.config, port: 0, defaultMetrics: false, log: silentLog });
      running.push(e);
      await e.whenConsuming();
      return e;
    };
    const first = await start();
    const traffic = seedTraffic(FROM, TO);
    for (const role of TOPIC_ROLES) await r.send(role, traffic[role]);
    const sentAt = Date.now();
    await r.untilCheckpointed(r.config.evaluator.groupId, 90_000);
    const store = r.store();
    const before = await readCheckpoints(store);
    expect(waiting(before), 'the last grace of purchases waits').toBeGreaterThan(0);

    const after = await until(
      'every purchase final',
      () => readCheckpoints(store),
      (h) => waiting(h) === 0,
      60_000,
    );
    const advanced = after.filter((c) => c.state.idle);
    expect(advanced.length).toBeGreaterThan(0);
    for (const c of advanced) {
      expect(c.state.idle!.advances).toBe(1);
      expect(Date.parse(c.writtenAt), 'not before the idle time').toBeGreaterThanOrEqual(sentAt + IDLE_MS);
    }
    const expected = await r.batch(pastEverything);
    delete expected.figures['sentinel/-'];
    expect(await onlineFigures(store)).toEqual(expected.figures);
    expect(sum(after, (c) => c.state.purchases.attributed)).toBe(expected.purchases.attributed);
    expect(sum(after, (c) => c.state.purchases.unattributed)).toBe(expected.purchases.unattributed);

    // the newest purchase's customer buys again at an event time the advance closed (within the grace: taken without it)
    const [user] = SEED_LINES[TO - 1].split(',').map(Number);
    const newest = T0 + (TO - 1 - FROM) * 60_000;
    const late = async (id: string, timeMs: number) => {
      await r.send('purchases', [{ key: String(user), value: encodePurchase({ user, products: [1], timeMs, id }) }]);
      await r.untilCheckpointed(r.config.evaluator.groupId, 60_000);
      return readCheckpoints(store);
    };
    expect(sum(await late('late-1', newest - 1_000), (c) => c.state.records.purchases.late)).toBe(1);
    await first.close();
    await start(); // reads the advance from the checkpoint
    const restarted = await late('late-2', newest - 2_000);
    expect(sum(restarted, (c) => c.state.records.purchases.late)).toBe(2);
    expect(waiting(restarted)).toBe(0);
    expect(await onlineFigures(store)).toEqual(expected.figures);
  }, 240_000);
});
