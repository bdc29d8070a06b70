/** The quality gate: pure, deterministic, used inside the workflow. */
import type { OnlineSummary } from '../evaluation/online-summary';
import type { GateDecision, GateOptions, ModelMetrics } from './types';

export const DEFAULT_GATE: Required<GateOptions> = { tolerance: 0.02, minHitRate: 0, popularityMargin: 0.01, minOnlineFollowed: 0 };

/** The active model scored by trainModel on the candidate's own held-out split (see activities/train.ts). */
export interface ActiveOnSameSplit {
  version: number;
  hitRate10: number;
  ndcg10: number;
}

/** Candidate metrics as trainModel returns them: optionally with the active model's figure on the same split. */
export type CandidateMetrics = ModelMetrics & { activeOnSameSplit?: ActiveOnSameSplit; activeOnSameSplitUnavailable?: string };

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

export function qualityGate(
  candidate: CandidateMetrics,
  active: ModelMetrics | undefined,
  options: GateOptions = {},
  activeOnline?: OnlineSummary,
): GateDecision {
  const { tolerance, minHitRate, popularityMargin, minOnlineFollowed } = { ...DEFAULT_GATE, ...options };
  if (!Number.isFinite(candidate.hitRate10)) {
    return { deploy: false, reason: `candidate HR@10 is not a number (${candidate.hitRate10})` };
  }
  if (candidate.hitRate10 < minHitRate) {
    return { deploy: false, reason: `candidate HR@10 ${pct(candidate.hitRate10)} is below the minimum ${pct(minHitRate)}` };
  }
  if (popularityMargin > 0 && !(candidate.hitRate10 >= candidate.popularityHitRate10 + popularityMargin)) {
    return {
      deploy: false,
      reason: `candidate HR@10 ${pct(candidate.hitRate10)} does not beat popularity's ${pct(candidate.popularityHitRate10)} on the same split by the margin ${pct(popularityMargin)}`,
    };
  }
  if (!active) {
    return { deploy: true, reason: `first model: HR@10 ${pct(candidate.hitRate10)} (popularity ${pct(candidate.popularityHitRate10)})` };
  }
  const followed = activeOnline?.followed ?? 0;
  if (minOnlineFollowed > 0 && followed < minOnlineFollowed) {
    return {
      deploy: false,
      reason: `the active model has ${followed} followed purchases online; the gate requires ${minOnlineFollowed} before replacing it`,
    };
  }
  const same = candidate.activeOnSameSplit;
  const activeHr = same ? same.hitRate10 : active.hitRate10;
  const basis = same
    ? `active v${same.version} scored on the candidate's held-out split`
    : `active model's stored metrics (its own split${candidate.activeOnSameSplitUnavailable ? `; same-split score unavailable: ${candidate.activeOnSameSplitUnavailable}` : ''})`;
  const delta = candidate.hitRate10 - activeHr;
  if (delta < -tolerance) {
    return {
      deploy: false,
      reason: `candidate HR@10 ${pct(candidate.hitRate10)} is worse than the active model's ${pct(activeHr)} by ${pct(-delta)}, more than the tolerance ${pct(tolerance)} (${basis})`,
    };
  }
  return {
    deploy: true,
    reason: `candidate HR@10 ${pct(candidate.hitRate10)} vs active ${pct(activeHr)} (tolerance ${pct(tolerance)}, popularity ${pct(candidate.popularityHitRate10)} + margin ${pct(popularityMargin)}; ${basis})`,
  };
}
