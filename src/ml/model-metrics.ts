/** The metrics of a trained model that cross workflow history and the registry (no data, only figures). */
import type { TrainingObjective } from './objectives';

/** Held-out ranking metrics of a model, next to the popularity baseline. */
export interface ModelMetrics {
  objective: TrainingObjective;
  hitRate10: number;
  ndcg10: number;
  popularityHitRate10: number;
  popularityNdcg10: number;
  valLoss: number;
  rmse: number;
  evaluatedUsers: number;
  protocol: string;
  /** linear default: the knobs chosen on the validation split of the training part, and their validation figures */
  selection?: string;
}
