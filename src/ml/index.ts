/**
 * The recommender ML core: read or generate purchase history, train the
 * seed's collaborative-filtering network (implicit-feedback objective by
 * default), evaluate it against popularity, and hand plain weights and JSON
 * to the rest of the system. No Temporal, MinIO or Kafka dependency.
 */
export * from './dataset';
export * from './generate';
export { AliasSampler } from './alias-sampler';
export { implicitExamples, NegativeSampler, ratedExamples, splitPairs, type ExampleSet } from './examples';
export { evaluateHoldout, HOLDOUT_PROTOCOL, type HoldoutEvaluation, type RankingScores } from './evaluate';
export { holdOutOnePerUser, type HoldoutSplit } from './holdout';
export { renderLossPlot } from './loss-plot';
export { buildModelMetadata, METADATA_FORMAT, POPULAR_PRODUCTS_KEPT, type ModelMetadata } from './metadata';
export { buildNetwork, extractWeights, INPUT_NAMES, LAYER_NAMES, type NetworkShape } from './model';
export type { DenseWeights, EmbeddingWeights, NetworkWeights, OutputActivation } from './network-weights';
export {
  IMPLICIT_DEFAULTS,
  objectiveModes,
  resolveTrainingOptions,
  SEED_DEFAULTS,
  trainingOptionsSchema,
  type ObjectiveMode,
  type TrainingOptions,
  type TrainingOptionsInput,
} from './options';
export { popularityRanking, type PopularityRanking } from './popularity';
export { TrainingCancelledError, type TrainingHooks, type TrainingProgress } from './progress';
export { deriveSeed, Random } from './random';
export { RANK_CUTOFF } from './ranking-metrics';
export { DEGENERATE_RATING, seedRatings } from './ratings';
export { renderModelReport, trainRecommender, type RecommenderMetrics, type TrainedRecommender, type TrainingSummary } from './recommender';
export { CatalogueScorer, predictPairs } from './scoring';
export { trainNetwork, type EpochLoss, type TrainedNetwork } from './train';
