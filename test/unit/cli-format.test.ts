import { describe, expect, it } from 'vitest';
import { formatResult } from '../../src/cli/commands/status';

describe('status output for people', () => {
  it('formats a deployed run without raw JSON or NaN', () => {
    const text = formatResult({
      outcome: 'deployed',
      reason: 'version 5 serves from slot recommender1',
      version: 5,
      slot: 'recommender1',
      url: 'http://127.0.0.1:8502/v1/models/recommender1/versions/5:predict',
      metrics: { hitRate10: 0.3312, ndcg10: 0.2011, popularityHitRate10: 0.161, popularityNdcg10: 0.099, evaluatedUsers: 2000 },
      data: { bucket: 'data', transactionsKey: 'recommender/transactions.csv', sha256: 'ab'.repeat(32) },
    });
    expect(text).toContain('outcome deployed: version 5 serves from slot recommender1');
    expect(text).toContain('HR@10 33.1%, NDCG@10 0.201 (popularity 16.1%, 0.099) on 2000 customers');
    expect(text).toContain('predict URL http://127.0.0.1:8502/v1/models/recommender1/versions/5:predict');
    expect(text).not.toMatch(/NaN|\{/);
  });

  it('leaves out metrics that were not computed', () => {
    const text = formatResult({ outcome: 'rejected', reason: 'below popularity', metrics: { hitRate10: NaN } });
    expect(text).toBe('outcome rejected: below popularity');
  });
});
