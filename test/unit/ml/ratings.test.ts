import { describe, expect, it } from 'vitest';
import { DEGENERATE_RATING, readPurchases, seedRatings } from '../../../src/ml';
import { textStream } from '../../helpers/purchases';

describe('seedRatings', () => {
  it('min–max scales purchase counts per product over its buyers', async () => {
    // product 1: counts 1 (c0), 3 (c1), 5 (c2) → 0, 0.5, 1
    const csv = 'customerId,products\n0,1\n1,1|1|1\n2,1|1|1|1|1\n';
    const h = await readPurchases(textStream(csv), { source: 'r.csv' });
    expect(Array.from(seedRatings(h))).toEqual([0, 0.5, 1]);
  });

  it('gives every buyer 1.0 when all buyers bought the product equally often (max == min)', async () => {
    // product 2 bought twice by each of two customers, product 3 once by a single customer
    const csv = 'customerId,products\n0,2|2|3\n1,2|2\n';
    const h = await readPurchases(textStream(csv), { source: 'r.csv' });
    const ratings = seedRatings(h);
    expect(DEGENERATE_RATING).toBe(1);
    // pairs in CSR order: (0,2), (0,3), (1,2)
    expect(Array.from(ratings)).toEqual([1, 1, 1]);
    expect(ratings.every((r) => Number.isFinite(r))).toBe(true);
  });
});
