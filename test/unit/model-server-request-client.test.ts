import { describe, expect, it } from 'vitest';
import { randomRequest } from '../../src/cli/request-client';
import { Random } from '../../src/ml/random';

describe('request client generator', () => {
  it('draws a user among N and 1..30 distinct products among M', () => {
    const rng = new Random(1);
    const shape = { users: 1000, products: 300, maxProductsPerRequest: 30 };
    const sizes = new Set<number>();
    const bad: string[] = [];
    for (let i = 0; i < 3000; i++) {
      const r = randomRequest(rng, shape);
      const ok =
        Number.isInteger(r.user) &&
        r.user >= 0 &&
        r.user < 1000 &&
        r.products.length >= 1 &&
        r.products.length <= 30 &&
        new Set(r.products).size === r.products.length &&
        r.products.every((p) => Number.isInteger(p) && p >= 0 && p < 300);
      if (!ok) bad.push(JSON.stringify(r));
      sizes.add(r.products.length);
    }
    expect(bad).toEqual([]);
    expect(sizes.size).toBe(30); // every size from 1 to 30 occurs
  });
  it('is reproducible from a seed', () => {
    const shape = { users: 50, products: 40, maxProductsPerRequest: 30 };
    const a = new Random(42);
    const b = new Random(42);
    const c = new Random(43);
    const seq = (rng: Random) => Array.from({ length: 20 }, () => randomRequest(rng, shape));
    const first = seq(a);
    expect(seq(b)).toEqual(first);
    expect(seq(c)).not.toEqual(first);
  });
  it('never asks for more products than exist', () => {
    const rng = new Random(3);
    for (let i = 0; i < 200; i++) {
      const r = randomRequest(rng, { users: 1, products: 4, maxProductsPerRequest: 30 });
      expect(r.products.length).toBeLessThanOrEqual(4);
      expect(new Set(r.products).size).toBe(r.products.length);
    }
  });
});
