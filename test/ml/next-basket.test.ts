import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rankingIntervals } from '../../bench/bootstrap';
import { evaluateNextBasket, nextBasketSplit, personalFrequencyScores, popularityScores } from '../../bench/next-basket';

// customer 0: three baskets, the last (4|1) holds one repeat (1) and one new product (4)
// customer 1: two baskets, the last (2) a repeat; customer 2: one basket, never held out
const CSV = ['customerId,products', '0,1|2', '1,2|3', '0,1', '2,5|5|3', '1,3', '0,4|1', '1,2'].join('\n');

describe('next-basket protocol (bench:quality)', () => {
  let dir: string;
  let file: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'next-basket-'));
    file = path.join(dir, 'transactions.csv');
    await writeFile(file, CSV);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("holds out each customer's last line and trains on the lines before it", async () => {
    const split = await nextBasketSplit(file);
    expect([...split.users]).toEqual([0, 1]);
    expect(split.baskets.map((b) => [...b])).toEqual([[4, 1], [2]]);
    // customer 0 keeps 1|2 and 1 (product 1 twice), customer 1 keeps 2|3 and 3, customer 2 everything
    expect(split.train.stats.transactions).toBe(5);
    expect(split.train.productRows).toBe(6);
  });

  it('splits hits into repeat and explore; P-TopFreq ranks the own most-bought products first', async () => {
    const split = await nextBasketSplit(file);
    const freq = evaluateNextBasket(split, personalFrequencyScores(split.train));
    // both customers have a repeat product in their basket and P-TopFreq puts it in the top 10 (6 products)
    expect(freq.repeat).toMatchObject({ customers: 2, hr10: 1 });
    // only customer 0 has a new product (4): ranked among products 0, 3, 4, 5 (1 and 2 excluded) — a hit with 6 products
    expect(freq.explore).toMatchObject({ customers: 1, hr10: 1 });
    expect(freq.all.customers).toBe(2);
    // customer 0: product 1 (bought twice) ranks first → 1; customer 1: product 3 (twice) before 2 → 1/log2(3)
    expect(freq.repeat.ndcg10).toBeCloseTo((1 + 1 / Math.log2(3)) / 2, 10);
    const pop = evaluateNextBasket(split, popularityScores(split.train));
    expect(pop.all.customers).toBe(2);
  });
});

describe('bootstrap intervals (bench:quality)', () => {
  it('bracket the value, and a paired difference of identical ranks is exactly zero', () => {
    const ranks = Int32Array.from({ length: 2000 }, (_, i) => (i % 4 === 0 ? 3 : 50));
    const r = rankingIntervals(ranks);
    expect(r.hr10.value).toBeCloseTo(0.25, 10);
    expect(r.hr10.low).toBeLessThan(0.25);
    expect(r.hr10.high).toBeGreaterThan(0.25);
    expect(r.hr10.high - r.hr10.low).toBeLessThan(0.05);
    const d = rankingIntervals(ranks, ranks);
    expect([d.hr10.value, d.hr10.low, d.hr10.high]).toEqual([0, 0, 0]);
  });
});
