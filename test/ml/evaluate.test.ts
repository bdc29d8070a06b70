import { describe, expect, it } from 'vitest';
import {
  hasPurchased,
  holdOutOnePerUser,
  popularityRanking,
  readPurchases,
  renderLossPlot,
  renderModelReport,
  trainRecommender,
} from '../../src/ml';
import { RankingAccumulator, rankAmongCandidates, rankInOrder } from '../../src/ml/ranking-metrics';
import { generatedHistory, textStream } from '../helpers/purchases';

describe('leave-one-out split', () => {
  it('removes one distinct product per eligible customer and keeps table sizes', async () => {
    const csv = 'customerId,products\n0,1|2|2\n1,3\n2,0|1|4|4|4\n';
    const h = await readPurchases(textStream(csv), { source: 'h.csv' });
    const split = holdOutOnePerUser(h, 100, 1);
    expect(Array.from(split.users)).toEqual([0, 2]); // customer 1 has a single product
    expect(split.eligibleUsers).toBe(2);
    expect(split.sampled).toBe(false);
    expect(split.train.userRows).toBe(h.userRows);
    expect(split.train.productRows).toBe(h.productRows);
    expect(split.train.stats.pairs).toBe(h.stats.pairs - 2);
    split.users.forEach((u, i) => {
      expect(hasPurchased(h, u, split.products[i])).toBe(true);
      expect(hasPurchased(split.train, u, split.products[i])).toBe(false);
    });
    expect(hasPurchased(split.train, 1, 3)).toBe(true);
  });

  it('samples at most maxUsers customers, reproducibly', async () => {
    const h = await generatedHistory({ seed: 2, users: 500, products: 50 });
    const a = holdOutOnePerUser(h, 100, 7);
    const b = holdOutOnePerUser(h, 100, 7);
    expect(a.sampled).toBe(true);
    expect(a.users).toHaveLength(100);
    expect(Array.from(a.users)).toEqual(Array.from(b.users));
    expect(Array.from(a.products)).toEqual(Array.from(b.products));
    expect(a.train.stats.pairs).toBe(h.stats.pairs - 100);
  });
});

describe('ranking metrics', () => {
  it('ranks the target among non-excluded products, ties to the lower id', () => {
    const scores = Float32Array.from([0.9, 0.1, 0.5, 0.5, 0.8, 0.95]);
    const exclude = Int32Array.from([0, 5]);
    // candidates 1..4; target 3 (0.5): ahead are 4 (0.8) and 2 (0.5, lower id) → rank 3
    expect(rankAmongCandidates(scores, 0, 6, 3, exclude, 0, 2)).toBe(3);
    expect(rankAmongCandidates(scores, 0, 6, 2, exclude, 0, 2)).toBe(2);
    // fixed order 5,0,4,2,3,1: position of 3 is 4; excluded 5 and 0 are ahead → rank 3
    const position = Int32Array.from([1, 5, 3, 4, 2, 0]);
    expect(rankInOrder(position, 3, exclude, 0, 2)).toBe(3);
  });

  it('computes HR@10 and NDCG@10 for one relevant item per customer', () => {
    const acc = new RankingAccumulator();
    [1, 3, 11].forEach((r) => acc.add(r));
    const { hr10, ndcg10 } = acc.result();
    expect(hr10).toBeCloseTo(2 / 3, 10);
    expect(ndcg10).toBeCloseTo((1 + 1 / Math.log2(4)) / 3, 10);
  });

  it('popularity ranks by distinct buyers, then purchases, then id', async () => {
    const h = await readPurchases(textStream('customerId,products\n0,2|2|2|1\n1,1|0\n2,0\n'), { source: 'p.csv' });
    expect(Array.from(popularityRanking(h).order)).toEqual([0, 1, 2]);
  });
});

describe('report artifacts', () => {
  it('renders a loss chart SVG and JSON metrics/metadata next to the model', async () => {
    const h = await generatedHistory({ seed: 4, users: 120, products: 30 });
    const result = await trainRecommender(h, { epochs: 2 });
    try {
      const files = renderModelReport(result);
      const metrics = JSON.parse(files['metrics.json'].toString()) as Record<string, unknown>;
      expect(metrics).toMatchObject({ mode: 'implicit', evaluated: true, users: result.metrics.evaluated ? result.metrics.users : -1 });
      const metadata = JSON.parse(files['metadata.json'].toString()) as Record<string, unknown>;
      expect(metadata).toMatchObject({ userRows: h.userRows, productRows: h.productRows, format: 'recommender-model-metadata/v1' });
      expect((metadata['popularProducts'] as number[])[0]).toBe(popularityRanking(h).order[0]);
      const svg = files['loss.svg'].toString();
      expect(svg.startsWith('<svg')).toBe(true);
      expect(svg.trim().endsWith('</svg>')).toBe(true);
      expect(svg.match(/<polyline/g)).toHaveLength(2);
      expect(svg).toContain('validation loss');
    } finally {
      result.dispose();
    }
    expect(renderLossPlot([])).toContain('no completed epochs');
  });
});
