/** The active model's online figures, for the retrain workflow's gate and details (docs/design.md, "Quality out"). */
import { summariseOnline, type OnlineSummary } from '../evaluation/online-summary';
import { onlineFiguresOf, onlineStoreFor } from '../store/online-figures';
import type { ActivityDeps } from './deps';

export function onlineActivities(deps: ActivityDeps) {
  return {
    /** What the online evaluator measured for a version (zero counts when it has not served yet). */
    async getOnlineFigures(input: { slot: string; version: number }): Promise<OnlineSummary> {
      const figures = await onlineFiguresOf(onlineStoreFor(deps.minio, deps.config), input.slot, input.version);
      return summariseOnline(figures);
    },
  };
}
