import { z } from 'zod';
import type { OutputActivation } from './network-weights';
import { trainingOptionBounds } from '../option-bounds';

/**
 * `seed`: the Kubeflow example's recipe — regression on min–max-scaled
 * purchase counts of observed pairs only, MSLE loss, linear output. Kept for
 * compatibility; it learns nothing about what customers did not buy and ranks
 * below popularity.
 * `implicit` (default): implicit feedback — observed pairs are positives,
 * sampled unobserved products are negatives, binary cross-entropy, sigmoid.
 */
export const objectiveModes = ['implicit', 'seed'] as const;
export type ObjectiveMode = (typeof objectiveModes)[number];

export const trainingOptionsSchema = z
  .object({
    mode: z.enum(objectiveModes).default('implicit'),
    embeddingDim: trainingOptionBounds.embeddingDim.optional(),
    hiddenUnits: z.number().int().min(1).max(4096).optional(),
    dropout: z.number().min(0).max(0.95).optional(),
    learningRate: trainingOptionBounds.learningRate.optional(),
    batchSize: trainingOptionBounds.batchSize.optional(),
    epochs: trainingOptionBounds.epochs.optional(),
    /** share of training examples kept aside for val_loss (seeded shuffle, then split) */
    validationSplit: z.number().min(0).max(0.9).optional(),
    /** implicit mode: sampled negatives per positive, re-sampled each epoch */
    negatives: trainingOptionBounds.negatives.optional(),
    /** implicit mode: negatives drawn uniformly or by popularity^0.75 (word2vec style) */
    negativeSampling: z.enum(['uniform', 'popularity']).optional(),
    /** seeds weight init, shuffles, splits, negatives and the evaluation sample */
    seed: trainingOptionBounds.seed.default(42),
    /** emit a batch progress event every N batches */
    progressEveryBatches: z.number().int().min(1).default(50),
    /** hold out one product per customer and report ranking metrics (the returned model is trained without them) */
    holdout: z.boolean().default(true),
    /** evaluate on at most this many customers (a seeded sample) to bound scoring cost */
    maxEvalUsers: trainingOptionBounds.maxEvalUsers.default(2000),
  })
  .strict();

export type TrainingOptionsInput = z.input<typeof trainingOptionsSchema>;

export interface TrainingOptions {
  mode: ObjectiveMode;
  embeddingDim: number;
  hiddenUnits: number;
  dropout: number;
  learningRate: number;
  batchSize: number;
  epochs: number;
  validationSplit: number;
  negatives: number;
  negativeSampling: 'uniform' | 'popularity';
  seed: number;
  progressEveryBatches: number;
  holdout: boolean;
  maxEvalUsers: number;
  /** derived from mode */
  loss: 'meanSquaredLogarithmicError' | 'binaryCrossentropy';
  /** derived from mode */
  outputActivation: OutputActivation;
}

type ModeDefaults = Pick<
  TrainingOptions,
  | 'embeddingDim'
  | 'hiddenUnits'
  | 'dropout'
  | 'learningRate'
  | 'batchSize'
  | 'epochs'
  | 'validationSplit'
  | 'negatives'
  | 'negativeSampling'
>;

/** The seed notebook's hyperparameters, unchanged. */
export const SEED_DEFAULTS: Readonly<ModeDefaults> = {
  embeddingDim: 50,
  hiddenUnits: 50,
  dropout: 0.2,
  learningRate: 0.001, // Keras Adam default
  batchSize: 64,
  epochs: 3,
  validationSplit: 0.25,
  negatives: 4, // unused in seed mode
  negativeSampling: 'uniform', // unused in seed mode
};

/**
 * Implicit-mode defaults, tuned on generated data with taste structure (see
 * docs/ml.md): same architecture, more epochs, larger batches for
 * throughput, a higher learning rate to match, a small validation share so
 * that most positives are learned from.
 */
export const IMPLICIT_DEFAULTS: Readonly<ModeDefaults> = {
  embeddingDim: 32,
  hiddenUnits: 50,
  dropout: 0.1,
  learningRate: 0.01,
  batchSize: 1024,
  epochs: 10,
  validationSplit: 0.1,
  negatives: 4,
  negativeSampling: 'uniform',
};

/** Validates options (throws a ZodError naming the bad field) and fills mode-specific defaults. */
export function resolveTrainingOptions(input: TrainingOptionsInput = {}): TrainingOptions {
  const parsed = trainingOptionsSchema.parse(input);
  const defaults = parsed.mode === 'seed' ? SEED_DEFAULTS : IMPLICIT_DEFAULTS;
  return {
    mode: parsed.mode,
    embeddingDim: parsed.embeddingDim ?? defaults.embeddingDim,
    hiddenUnits: parsed.hiddenUnits ?? defaults.hiddenUnits,
    dropout: parsed.dropout ?? defaults.dropout,
    learningRate: parsed.learningRate ?? defaults.learningRate,
    batchSize: parsed.batchSize ?? defaults.batchSize,
    epochs: parsed.epochs ?? defaults.epochs,
    validationSplit: parsed.validationSplit ?? defaults.validationSplit,
    negatives: parsed.negatives ?? defaults.negatives,
    negativeSampling: parsed.negativeSampling ?? defaults.negativeSampling,
    seed: parsed.seed,
    progressEveryBatches: parsed.progressEveryBatches,
    holdout: parsed.holdout,
    maxEvalUsers: parsed.maxEvalUsers,
    loss: parsed.mode === 'seed' ? 'meanSquaredLogarithmicError' : 'binaryCrossentropy',
    outputActivation: parsed.mode === 'seed' ? 'linear' : 'sigmoid',
  };
}
