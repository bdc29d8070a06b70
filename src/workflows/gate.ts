/** The quality gate: pure, deterministic, used inside the workflow. */
import type { GateDecision, GateOptions, ModelMetrics } from './types';

export const DEFAULT_GATE: Required<GateOptions> = { tolerance: 0.02, minHitRate: 0 };

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

export function qualityGate(candidate: ModelMetrics, active: ModelMetrics | undefined, options: GateOptions = {}): GateDecision {
  const { tolerance, minHitRate } = { ...DEFAULT_GATE, ...options };
  if (!Number.isFinite(candidate.hitRate10)) {
    return { deploy: false, reason: `candidate HR@10 is not a number (${candidate.hitRate10})` };
  }
  if (candidate.hitRate10 < minHitRate) {
    return { deploy: false, reason: `candidate HR@10 ${pct(candidate.hitRate10)} is below the minimum ${pct(minHitRate)}` };
  }
  if (!active) {
    return { deploy: true, reason: `first model: HR@10 ${pct(candidate.hitRate10)} (popularity ${pct(candidate.popularityHitRate10)})` };
  }
  const delta = candidate.hitRate10 - active.hitRate10;
  if (delta < -tolerance) {
    return {
      deploy: false,
      reason: `candidate HR@10 ${pct(candidate.hitRate10)} is worse than the active model's ${pct(active.hitRate10)} by ${pct(-delta)}, more than the tolerance ${pct(tolerance)}`,
    };
  }
  return {
    deploy: true,
    reason: `candidate HR@10 ${pct(candidate.hitRate10)} vs active ${pct(active.hitRate10)} (tolerance ${pct(tolerance)})`,
  };
}
