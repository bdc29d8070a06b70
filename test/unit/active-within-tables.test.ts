/**
 * The gate's same-split score of an active model whose tables are smaller
 * than the candidate's (the history grew: streamed purchases bring new
 * customers and products): products it never saw rank last, customers it
 * never saw get the popularity order (serving's fallback), the rest its own scores.
 */
import { describe, expect, it } from 'vitest';
import { withinTables } from '../../src/activities/active-score';

describe('withinTables', () => {
  it("pads new products with −∞, answers new customers by popularity, keeps the model's own scores", () => {
    const asked: number[][] = [];
    const model = (users: Int32Array): Float32Array => {
      asked.push([...users]);
      return Float32Array.from([...users].flatMap((u) => [u * 10, u * 10 + 1, u * 10 + 2]));
    };
    const score = withinTables(model, { userRows: 2, productRows: 3 }, 5, Int32Array.from([4, 3, 2, 1, 0]));
    const out = score(Int32Array.from([0, 5, 1]));
    const row = (i: number) => [...out.subarray(i * 5, (i + 1) * 5)];
    expect(asked).toEqual([[0, 1]]);
    expect(row(0)).toEqual([0, 1, 2, -Infinity, -Infinity]);
    expect(row(1)).toEqual([1, 2, 3, 4, 5]);
    expect(row(2)).toEqual([10, 11, 12, -Infinity, -Infinity]);
  });
});
