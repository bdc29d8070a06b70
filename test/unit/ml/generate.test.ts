import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { AliasSampler, generatePurchaseDay, generatePurchaseHistory, Random, readPurchases, readUsers } from '../../../src/ml';
import { streamToBuffer } from '../../helpers/purchases';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('generatePurchaseHistory', () => {
  it('is byte-for-byte reproducible for a seed and differs for another seed', async () => {
    const a = generatePurchaseHistory({ seed: 5, users: 300, products: 80 });
    const b = generatePurchaseHistory({ seed: 5, users: 300, products: 80 });
    const c = generatePurchaseHistory({ seed: 6, users: 300, products: 80 });
    const [ta, tb, tc] = await Promise.all([
      streamToBuffer(a.transactions),
      streamToBuffer(b.transactions),
      streamToBuffer(c.transactions),
    ]);
    expect(sha(ta)).toBe(sha(tb));
    expect(sha(ta)).not.toBe(sha(tc));
    expect((await streamToBuffer(a.users)).equals(await streamToBuffer(b.users))).toBe(true);
  });

  it('produces the seed scale by default, with popularity skew and repeat purchases, parseable without bad lines', async () => {
    const data = generatePurchaseHistory({ seed: 1 });
    const h = await readPurchases(data.transactions, { source: 'generated' });
    const users = await readUsers(data.users, { source: 'generated users' });
    expect(h.badLines.total).toBe(0);
    expect(h.userRows).toBe(1000);
    expect(h.productRows).toBeLessThanOrEqual(300);
    expect(h.stats.customers).toBe(1000);
    expect(h.stats.purchases).toBeGreaterThan(50_000);
    expect(h.stats.purchases).toBeLessThan(70_000);
    expect(users.customerIds.length).toBe(1000);
    // repeats exist: fewer distinct pairs than purchases
    expect(h.stats.pairs).toBeLessThan(h.stats.purchases * 0.8);
    // power-law-ish popularity: the top 10% of products carry far more than 10% of buyers
    const buyers = new Array<number>(h.productRows).fill(0);
    for (const p of h.products) buyers[p]++;
    buyers.sort((x, y) => y - x);
    const top = buyers.slice(0, 30).reduce((s, x) => s + x, 0);
    expect(top / h.stats.pairs).toBeGreaterThan(0.2);
  });

  it('generates a deterministic "day" to append, without a header, in the same id space', async () => {
    const opts = { seed: 9, users: 400, products: 100 };
    const day1 = await streamToBuffer(generatePurchaseDay(opts, 1));
    const day1again = await streamToBuffer(generatePurchaseDay(opts, 1));
    const day2 = await streamToBuffer(generatePurchaseDay(opts, 2));
    expect(day1.equals(day1again)).toBe(true);
    expect(day1.equals(day2)).toBe(false);
    expect(day1.toString().startsWith('customerId')).toBe(false);
    const lines = day1.toString().trim().split('\n');
    // about dayActiveShare (10%) of customers buy on a day
    expect(lines.length).toBeGreaterThan(15);
    expect(lines.length).toBeLessThan(100);

    const history = await streamToBuffer(generatePurchaseHistory(opts).transactions);
    const before = await readPurchases(Readable.from([history]), { source: 'history' });
    const appended = await readPurchases(Readable.from([history, day1]), { source: 'history+day1' });
    expect(appended.badLines.total).toBe(0);
    expect(appended.stats.transactions).toBe(before.stats.transactions + lines.length);
    expect(appended.productRows).toBeLessThanOrEqual(100);
    expect(() => generatePurchaseDay(opts, 0)).toThrow(/day must be an integer >= 1/);
  });

  it('rejects invalid options', () => {
    expect(() => generatePurchaseHistory({ users: 0 })).toThrow();
    expect(() => generatePurchaseHistory({ products: 10, tasteGroups: 11 })).toThrow(/tasteGroups/);
  });
});

describe('seeded randomness', () => {
  it('Random is deterministic and roughly uniform', () => {
    const a = new Random(123);
    const b = new Random(123);
    const xs = Array.from({ length: 20_000 }, () => a.next());
    expect(xs.slice(0, 5)).toEqual(Array.from({ length: 5 }, () => b.next()));
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(mean).toBeGreaterThan(0.49);
    expect(mean).toBeLessThan(0.51);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
  });

  it('AliasSampler draws in proportion to the weights and never draws a zero weight', () => {
    const sampler = new AliasSampler([1, 0, 3, 6]);
    const rng = new Random(7);
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 50_000; i++) counts[sampler.sample(rng)]++;
    expect(counts[1]).toBe(0);
    expect(counts[0] / 50_000).toBeCloseTo(0.1, 1);
    expect(counts[2] / 50_000).toBeCloseTo(0.3, 1);
    expect(counts[3] / 50_000).toBeCloseTo(0.6, 1);
  });
});
