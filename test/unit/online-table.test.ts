/** `recommender online`'s table: plain text (a log file reads it as a terminal does), the intervals from the counts. */
import { describe, expect, it } from 'vitest';
import { batchFigures, type PartitionRecords } from '../../src/evaluation/batch';
import { uplift, wilson } from '../../src/evaluation/figures';
import { decodeBasket, decodeServed, decodeShadowAnswer } from '../../src/evaluation/records';
import { onlineTable } from '../../src/cli/online-table';
import { seedTraffic } from '../evaluation/traffic';

describe('online table', () => {
  const t = seedTraffic(20_001, 22_001);
  const records: PartitionRecords = {
    results: t.results.map((m) => decodeServed(m.value as Buffer)),
    shadows: t.shadows.map((m) => decodeShadowAnswer(m.value as Buffer)),
    purchases: t.purchases.map((m) => decodeBasket(m.value as Buffer)),
  };
  const { figures } = batchFigures([records], { windowMs: 1_800_000, graceMs: 300_000, repeatHorizonMs: 7 * 86_400_000 });

  it('a block per version, both shadows and the uplift, no escape sequences', () => {
    const text = onlineTable(figures);
    console.log(text);
    expect(text.includes(String.fromCharCode(27)), 'no escape sequences').toBe(false);
    expect(text).toMatch(/^version recommender\/1: [\d,]+ requests, [\d,]+ followed by a purchase$/m);
    expect(text).toMatch(/^version recommender1\/2: /m);
    expect(text.match(/^ {2}popularity /gm)).toHaveLength(2);
    expect(text.match(/^ {2}previous model /gm)).toHaveLength(2);
    const v1 = figures['recommender/1'];
    const hr = wilson(v1.hits, v1.followed)!;
    expect(text).toContain(`[${(hr.low * 100).toFixed(1)} %, ${(hr.high * 100).toFixed(1)} %]`);
  });

  it('Wilson and the paired uplift on known counts', () => {
    const w = wilson(30, 100)!;
    expect(w.low).toBeCloseTo(0.2189, 3);
    expect(w.high).toBeCloseTo(0.3958, 3);
    const u = uplift({ requests: 100, paired: 100, modelHits: 30, shadowHits: 20, modelOnly: 15, shadowOnly: 5 })!;
    expect(u.estimate).toBeCloseTo(0.1, 10);
    // d has mean 0.1 and variance 0.2 − 0.01 = 0.19 over 100 pairs
    expect(u.high - u.estimate).toBeCloseTo(1.96 * Math.sqrt(0.19 / 99), 3);
  });
});
