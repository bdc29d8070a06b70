import { beforeAll, describe, expect, it } from 'vitest';
import { trainRecommender, type PurchaseHistory, type RecommenderMetrics } from '../../src/ml';
import { generatedHistory } from '../helpers/purchases';

function summary(m: RecommenderMetrics): string {
  if (!m.evaluated) return `${m.mode}: not evaluated (${m.notEvaluatedReason})`;
  return (
    `${m.mode}: HR@10 ${m.hr10.toFixed(3)} NDCG@10 ${m.ndcg10.toFixed(3)} | popularity HR@10 ${m.popularity.hr10.toFixed(3)} ` +
    `NDCG@10 ${m.popularity.ndcg10.toFixed(3)} | users ${m.users} | held-out loss ${m.heldOutLoss.toFixed(4)} rmse ${m.rmse.toFixed(4)} | ` +
    `${m.training.seconds.toFixed(1)} s`
  );
}

describe('ranking quality on seed-sized generated data with taste structure', () => {
  let history: PurchaseHistory;
  beforeAll(async () => {
    history = await generatedHistory({ seed: 1 }); // 1,000 customers, 300 products, ~60,000 purchases
  });

  it('the default (implicit) model clearly beats the popularity baseline on HR@10 and NDCG@10', async () => {
    const result = await trainRecommender(history);
    result.dispose();
    const m = result.metrics;
    console.log(summary(m));
    if (!m.evaluated) throw new Error('expected an evaluated model');
    expect(m.users).toBe(1000);
    expect(m.sampled).toBe(false);
    // Observed ~0.47–0.52 vs ~0.15–0.17 across data and training seeds; 2× leaves a wide margin.
    expect(m.hr10).toBeGreaterThanOrEqual(2 * m.popularity.hr10);
    expect(m.ndcg10).toBeGreaterThanOrEqual(1.5 * m.popularity.ndcg10);
    expect(m.valLoss).not.toBeNull();
    expect(m.lossHistory.at(-1)!.loss).toBeLessThan(m.lossHistory[0].loss);
  });

  it('reports the seed recipe under the same protocol (it ranks below popularity, as measured in docs/ml.md)', async () => {
    const result = await trainRecommender(history, { mode: 'seed' });
    result.dispose();
    const m = result.metrics;
    console.log(summary(m));
    if (!m.evaluated) throw new Error('expected an evaluated model');
    expect(m.hr10).toBeGreaterThanOrEqual(0);
    expect(m.hr10).toBeLessThan(m.popularity.hr10);
    expect(m.lossHistory).toHaveLength(3);
  });
});
