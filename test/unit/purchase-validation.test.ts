/**
 * Every reason a purchase record goes to purchases-dlq, and the verdict's
 * independence of the wall clock; the hot path's predicate (acceptsScanned)
 * accepts exactly what validatePurchase accepts.
 */
import { describe, expect, it } from 'vitest';
import { acceptsScanned, validatePurchase } from '../../src/ingest/purchase-validation';
import { ScannedPurchase } from '../../src/messaging/purchase-scan';
import { encodePurchase, type Purchase } from '../../src/messaging/schemas';

const limits = { maxUserId: 1000, maxProductId: 500, maxProducts: 3, maxFutureMs: 60_000 };
const at = 1_764_316_800_000;
const good: Purchase = { user: 3, products: [17, 42], timeMs: at, id: 'p-1' };
const verdict = (p: Partial<Purchase>) => validatePurchase(encodePurchase({ ...good, ...p }), at, limits);

describe('validatePurchase', () => {
  it('accepts a purchase within the limits, repeats kept', () => {
    expect(verdict({ products: [5, 5, 500], user: 1000, timeMs: at + 60_000 })).toEqual({
      ok: true,
      purchase: { ...good, products: [5, 5, 500], user: 1000, timeMs: at + 60_000 },
    });
  });

  it.each([
    ['negative user', { user: -1 }, 'negative-id', /user -1 is negative/],
    ['negative product', { products: [1, -7] }, 'negative-id', /products\[1\] = -7/],
    ['user beyond the bound', { user: 1001 }, 'id-too-large', /user 1001 exceeds .* 1000/],
    ['product beyond the bound', { products: [501] }, 'id-too-large', /products\[0\] = 501/],
    ['no products', { products: [] }, 'no-products', /no products/],
    ['too many products', { products: [1, 2, 3, 4] }, 'too-many-products', /4 products; at most 3/],
    ['no id', { id: '' }, 'bad-purchase-id', /no id/],
    ['id with a comma', { id: 'a,b' }, 'bad-purchase-id', /without ','/],
    ['id too long', { id: 'x'.repeat(129) }, 'bad-purchase-id', /1-128/],
    ['time zero', { timeMs: 0 }, 'bad-time', /not after 1970/],
    ['time far in the future', { timeMs: at + 60_001 }, 'bad-time', /60001 ms after the record's timestamp/],
    ['unsafe id', { user: 2 ** 53 + 2 }, 'unsafe-id', /user: .* is not a safe integer/],
  ] as [string, Partial<Purchase>, string, RegExp][])('rejects %s', (_name, change, code, reason) => {
    const v = verdict(change);
    expect(v.ok).toBe(false);
    if (!v.ok) {
      expect(v.code).toBe(code);
      expect(v.reason).toMatch(reason);
    }
  });

  it('rejects empty and undecodable records', () => {
    expect(validatePurchase(null, at, limits)).toMatchObject({ ok: false, code: 'empty-message' });
    expect(validatePurchase(Buffer.from([0x12, 0x09, 0x01]), at, limits)).toMatchObject({ ok: false, code: 'undecodable' });
  });
});

describe('acceptsScanned', () => {
  it('accepts a scanned record exactly when validatePurchase accepts it (every combination of values at the limits)', () => {
    const users = [0, 1000, 1001];
    const productLists = [[], [0], [500], [501], [1, 2, 3], [1, 2, 3, 4], [7, 501, 3]];
    const times = [0, 1, at + 60_000, at + 60_001];
    const ids = ['', 'a', '!', '~', 'a,b', 'a b', 'x'.repeat(128), 'x'.repeat(129), 'p-1\n'];
    const s = new ScannedPurchase(limits.maxProducts + 1);
    let accepted = 0;
    for (const user of users)
      for (const products of productLists)
        for (const timeMs of times)
          for (const id of ids) {
            const bytes = encodePurchase({ user, products, timeMs, id });
            expect(s.scan(bytes)).toBe(true);
            const fast = acceptsScanned(s, bytes, at, limits);
            expect(fast, JSON.stringify({ user, products, timeMs, id })).toBe(validatePurchase(bytes, at, limits).ok);
            if (fast) accepted++;
          }
    expect(accepted).toBe(2 * 3 * 2 * 4); // users ≤ 1000, valid product lists, times after 1970 and ≤ the bound, valid ids
  });
});
