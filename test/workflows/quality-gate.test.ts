import { describe, expect, it } from 'vitest';
import { qualityGate, type CandidateMetrics } from '../../src/workflows/gate';
import type { ModelMetrics } from '../../src/workflows/types';

const metrics = (hitRate10: number, popularityHitRate10 = 0.16): ModelMetrics => ({
  objective: 'implicit',
  hitRate10,
  ndcg10: hitRate10 / 2,
  popularityHitRate10,
  popularityNdcg10: popularityHitRate10 / 2,
  valLoss: NaN,
  rmse: NaN,
  evaluatedUsers: 100,
  protocol: 'test',
});

describe('qualityGate', () => {
  it('refuses by default a candidate that does not beat popularity by the margin', () => {
    const d = qualityGate(metrics(0.165), undefined);
    expect(d.deploy).toBe(false);
    expect(d.reason).toContain('popularity');
    expect(qualityGate(metrics(0.175), undefined).deploy).toBe(true);
  });

  it('takes the margin as an input (0 disables it)', () => {
    expect(qualityGate(metrics(0.165), undefined, { popularityMargin: 0 }).deploy).toBe(true);
    expect(qualityGate(metrics(0.2), undefined, { popularityMargin: 0.05 }).deploy).toBe(false);
  });

  it('compares with the active model on the same split when trainModel scored it', () => {
    const candidate: CandidateMetrics = { ...metrics(0.28), activeOnSameSplit: { version: 3, hitRate10: 0.31, ndcg10: 0.18 } };
    const d = qualityGate(candidate, metrics(0.2));
    expect(d.deploy).toBe(false);
    expect(d.reason).toContain('active v3 scored on the candidate');
  });

  it('falls back to the stored metrics and says so', () => {
    const candidate: CandidateMetrics = { ...metrics(0.28), activeOnSameSplitUnavailable: 'no SavedModel' };
    const d = qualityGate(candidate, metrics(0.2));
    expect(d.deploy).toBe(true);
    expect(d.reason).toContain('same-split score unavailable: no SavedModel');
  });
});
