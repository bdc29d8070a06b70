import type * as tf from '@tensorflow/tfjs-node';
import type { PurchaseHistory } from '../dataset/purchase-history';
import { evaluateHoldout, type HoldoutEvaluation } from '../evaluate';
import { holdOutOnePerUser } from '../holdout';
import { renderLossPlot } from './loss-plot';
import { buildModelMetadata, type ModelMetadata } from '../metadata';
import { extractWeights } from './model';
import type { NetworkWeights } from './network-weights';
import { resolveTrainingOptions, type ObjectiveMode, type TrainingOptionsInput } from './options';
import type { TrainingHooks } from '../progress';
import { trainNetwork, type EpochLoss } from './train';

export interface TrainingSummary {
  mode: ObjectiveMode;
  /** validation loss of the last epoch (null without a validation split) */
  valLoss: number | null;
  lossHistory: EpochLoss[];
  training: {
    epochs: number;
    batchSize: number;
    examplesPerEpoch: number;
    validationExamples: number;
    seconds: number;
    examplesPerSecond: number;
  };
}

/** JSON-serializable metrics of a trained model; `evaluated` tells whether the held-out metrics exist. */
export type RecommenderMetrics = TrainingSummary &
  (({ evaluated: true } & HoldoutEvaluation) | { evaluated: false; notEvaluatedReason: string });

export interface TrainedRecommender {
  /**
   * The trained tfjs model. The caller owns it: call dispose() (or
   * model.dispose()) when done, e.g. after exporting weights().
   */
  model: tf.LayersModel;
  /** A fresh copy of the weights for the SavedModel exporter (independent of the model's lifetime). */
  weights(): NetworkWeights;
  metrics: RecommenderMetrics;
  metadata: ModelMetadata;
  /** Frees the model's tensors. Idempotent. */
  dispose(): void;
}

/**
 * Trains a recommender on a purchase history and evaluates it.
 *
 * With `holdout` (default), one product per eligible customer (or a seeded
 * sample of at most `maxEvalUsers` customers) is held out; the returned model
 * is the one trained WITHOUT those pairs, so the metrics describe exactly the
 * model that would be deployed. With `holdout: false` it trains on
 * everything and reports only the training losses.
 *
 * Throws ZodError for invalid options and TrainingCancelledError when the
 * signal aborts (no tensors are left behind in either case).
 */
export async function trainRecommender(
  history: PurchaseHistory,
  options: TrainingOptionsInput = {},
  hooks: TrainingHooks = {},
): Promise<TrainedRecommender> {
  const opts = resolveTrainingOptions(options);
  const split = opts.holdout ? holdOutOnePerUser(history, opts.maxEvalUsers, opts.seed) : undefined;
  const trained = await trainNetwork(split?.train ?? history, opts, hooks);
  const { model } = trained;

  let evaluation: HoldoutEvaluation | undefined;
  try {
    if (split && split.users.length > 0) evaluation = await evaluateHoldout(model, split, history, opts, hooks);
  } catch (error) {
    model.dispose();
    throw error;
  }

  const summary: TrainingSummary = {
    mode: opts.mode,
    valLoss: trained.lossHistory.at(-1)?.valLoss ?? null,
    lossHistory: trained.lossHistory,
    training: {
      epochs: opts.epochs,
      batchSize: opts.batchSize,
      examplesPerEpoch: trained.examplesPerEpoch,
      validationExamples: trained.validationExamples,
      seconds: trained.seconds,
      examplesPerSecond: trained.examplesPerSecond,
    },
  };
  const metrics: RecommenderMetrics = evaluation
    ? { ...summary, evaluated: true, ...evaluation }
    : {
        ...summary,
        evaluated: false,
        notEvaluatedReason: split ? 'no customer has at least 2 distinct products to hold one out' : 'holdout disabled by options',
      };

  let disposed = false;
  return {
    model,
    weights: () => extractWeights(model),
    metrics,
    metadata: buildModelMetadata(history, opts, split?.users.length ?? 0),
    dispose: () => {
      if (disposed) return;
      disposed = true;
      model.dispose();
    },
  };
}

/**
 * The small files to store next to a model (names are suggestions):
 * metrics.json, metadata.json and loss.svg.
 */
export function renderModelReport(
  result: Pick<TrainedRecommender, 'metrics' | 'metadata'>,
): Record<'metrics.json' | 'metadata.json' | 'loss.svg', Buffer> {
  const title = `${result.metrics.mode} objective — loss per epoch`;
  return {
    'metrics.json': Buffer.from(`${JSON.stringify(result.metrics, null, 2)}\n`),
    'metadata.json': Buffer.from(`${JSON.stringify(result.metadata, null, 2)}\n`),
    'loss.svg': Buffer.from(renderLossPlot(result.metrics.lossHistory, title)),
  };
}
