import { describe, expect, it } from 'vitest';
import { emptyVersion, type ShadowFigures } from '../../src/evaluation/figures';
import { rollbackEvidence } from '../../src/evaluation/online-rollback';

function withPrevious(s: ShadowFigures) {
  const f = emptyVersion('recommender1', 7);
  f.shadows['previous-model'] = s;
  return f;
}

describe('online rollback evidence', () => {
  it('needs the minimum of pairs first', () => {
    const worse = { requests: 500, paired: 299, modelHits: 30, shadowHits: 90, modelOnly: 0, shadowOnly: 60 };
    expect(rollbackEvidence(withPrevious(worse), 300)).toBeUndefined();
    expect(rollbackEvidence(withPrevious({ ...worse, paired: 300 }), 300)).toMatch(
      /^version 7 \(slot recommender1\): online HR@10 10\.0 % vs the previous model's 30\.0 % on the same 300 followed purchases \(uplift -20\.0 %, 95 % interval -2\d\.\d % … -1\d\.\d %\)$/,
    );
  });

  it('acts only when the model is worse with 95 % confidence', () => {
    // 10 vs 14 discordant pairs of 400: not significant
    expect(
      rollbackEvidence(withPrevious({ requests: 900, paired: 400, modelHits: 100, shadowHits: 104, modelOnly: 10, shadowOnly: 14 }), 100),
    ).toBeUndefined();
    // better than the previous model: never
    expect(
      rollbackEvidence(withPrevious({ requests: 900, paired: 400, modelHits: 160, shadowHits: 100, modelOnly: 70, shadowOnly: 10 }), 100),
    ).toBeUndefined();
    // 5 vs 40 discordant pairs of 400: significant
    expect(
      rollbackEvidence(withPrevious({ requests: 900, paired: 400, modelHits: 100, shadowHits: 135, modelOnly: 5, shadowOnly: 40 }), 100),
    ).toBeDefined();
  });
});
