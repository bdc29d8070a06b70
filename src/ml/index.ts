/**
 * The recommender ML core: read or generate purchase history, train a model,
 * evaluate it against popularity, and hand plain weights and JSON to the rest
 * of the system. No Temporal, MinIO or Kafka dependency.
 *
 * Families, the default first: `linear/` (EASE on the purchase history plus
 * each customer's purchase-time context; the `linear` objective, default),
 * `lowrank/` (its low-rank form for large catalogues), `network/` (the seed's
 * collaborative-filtering network: the `implicit` and `seed` objectives).
 */
export * from './dataset';
export * from './generate';
export { AliasSampler } from './network/alias-sampler';
export { implicitExamples, NegativeSampler, ratedExamples, splitPairs, type ExampleSet } from './network/examples';
export { evaluateHoldout, HOLDOUT_PROTOCOL, type HoldoutEvaluation, type RankingScores } from './evaluate';
export { holdOutOnePerUser, type HoldoutSplit } from './holdout';
export { renderLossPlot } from './network/loss-plot';
export { buildModelMetadata, METADATA_FORMAT, POPULAR_PRODUCTS_KEPT, type ModelMetadata } from './metadata';
export { buildNetwork, extractWeights, INPUT_NAMES, LAYER_NAMES, type NetworkShape } from './network/model';
export type { DenseWeights, EmbeddingWeights, NetworkWeights, OutputActivation } from './network/network-weights';
export {
  IMPLICIT_DEFAULTS,
  objectiveModes,
  resolveTrainingOptions,
  SEED_DEFAULTS,
  trainingOptionsSchema,
  type ObjectiveMode,
  type TrainingOptions,
  type TrainingOptionsInput,
} from './network/options';
export { popularityRanking, type PopularityRanking } from './popularity';
export { TrainingCancelledError, type TrainingHooks, type TrainingProgress } from './progress';
export { deriveSeed, Random } from './random';
export { RANK_CUTOFF } from './ranking-metrics';
export { DEGENERATE_RATING, seedRatings } from './network/ratings';
export {
  renderModelReport,
  trainRecommender,
  type RecommenderMetrics,
  type TrainedRecommender,
  type TrainingSummary,
} from './network/recommender';
export { CatalogueScorer, predictPairs } from './network/scoring';
export { trainNetwork, type EpochLoss, type TrainedNetwork } from './network/train';
