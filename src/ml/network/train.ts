import type * as tf from '@tensorflow/tfjs-node';
import { pairUsers, type PurchaseHistory } from '../dataset/purchase-history';
import { implicitExamples, NegativeSampler, ratedExamples, splitPairs, type ExampleSet } from './examples';
import { buildNetwork } from './model';
import type { TrainingOptions } from './options';
import { TrainingCancelledError, type TrainingHooks } from '../progress';
import { deriveSeed, Random } from '../random';
import { seedRatings } from './ratings';
import { SparseTrainingStep } from './sparse-training-step';

export interface EpochLoss {
  /** 1-based */
  epoch: number;
  loss: number;
  valLoss: number | null;
}

export interface TrainedNetwork {
  /** the caller owns it and must call model.dispose() */
  model: tf.LayersModel;
  lossHistory: EpochLoss[];
  /** training examples per epoch (positives + negatives in implicit mode) */
  examplesPerEpoch: number;
  validationExamples: number;
  seconds: number;
  examplesPerSecond: number;
}

/** Seeded random streams used by training. */
const STREAM = { split: 11, validationNegatives: 12, epoch: 13, dropout: 14 } as const;
/** Longest stretch of batches without yielding to the event loop (heartbeats, abort signals from I/O). */
const YIELD_EVERY_MS = 100;

/**
 * Trains the network on the native backend with sparse embedding updates
 * (SparseTrainingStep: the batch's rows are gathered, and Adam updates the
 * dense layers and only the embedding rows the batch touched, deferring the
 * others' momentum steps), so a batch costs the same on a 28,606-row table
 * as on a 300-row one.
 * Implicit negatives are re-sampled every epoch. Emits batch and epoch
 * progress; honours the AbortSignal between batches. Every tensor created
 * here is disposed before returning or throwing, except the returned model's
 * weights (the caller disposes the model).
 *
 * Table sizes come from `history` (userRows, productRows), so an evaluation
 * split that keeps the full history's sizes can score held-out ids.
 */
export async function trainNetwork(history: PurchaseHistory, options: TrainingOptions, hooks: TrainingHooks = {}): Promise<TrainedNetwork> {
  const { signal, onProgress } = hooks;
  if (signal?.aborted) throw new TrainingCancelledError('train', 0, 0);
  if (history.products.length === 0) throw new Error(`${history.source}: no purchases to train on`);

  const examples = trainingExamples(history, options);
  const { validation } = examples;

  const model = buildNetwork({
    userRows: history.userRows,
    productRows: history.productRows,
    embeddingDim: options.embeddingDim,
    hiddenUnits: options.hiddenUnits,
    dropout: options.dropout,
    outputActivation: options.outputActivation,
    seed: options.seed,
  });
  const lossHistory: EpochLoss[] = [];
  let examplesPerEpoch = 0;
  let trainedExamples = 0;
  let cancelledAt: { epoch: number; batch: number } | undefined;
  const started = performance.now();

  try {
    const trainer = new SparseTrainingStep(
      model,
      {
        learningRate: options.learningRate,
        dropout: options.dropout,
        loss: options.loss,
        outputActivation: options.outputActivation,
        maxBatch: options.batchSize,
      },
      new Random(deriveSeed(options.seed, STREAM.dropout)),
    );
    const clock = { lastYield: performance.now() };
    for (let epoch = 1; epoch <= options.epochs && !cancelledAt; epoch++) {
      const train = examples.forEpoch(epoch);
      examplesPerEpoch = train.users.length;
      const epochStarted = performance.now();
      const run = await trainEpoch(trainer, train, epoch, options, hooks, clock);
      trainedExamples += run.examples;
      if (run.cancelledAtBatch !== undefined) {
        cancelledAt = { epoch, batch: run.cancelledAtBatch };
        break;
      }
      const loss = run.lossSum / Math.max(1, examplesPerEpoch);
      if (!Number.isFinite(loss)) throw new Error(`training diverged: loss is ${loss} after epoch ${epoch}`);
      const valLoss = validation ? trainer.evaluate(validation.users, validation.products, validation.labels) : null;
      lossHistory.push({ epoch, loss, valLoss });
      onProgress?.({
        kind: 'epoch',
        epoch,
        epochs: options.epochs,
        loss,
        valLoss,
        seconds: (performance.now() - epochStarted) / 1000,
        examples: examplesPerEpoch,
      });
    }
    if (!cancelledAt) trainer.writeBack();
  } catch (error) {
    model.dispose();
    throw error;
  }

  if (cancelledAt) {
    model.dispose();
    throw new TrainingCancelledError('train', cancelledAt.epoch, cancelledAt.batch);
  }
  const seconds = (performance.now() - started) / 1000;
  return {
    model,
    lossHistory,
    examplesPerEpoch,
    validationExamples: validation?.users.length ?? 0,
    seconds,
    examplesPerSecond: trainedExamples / seconds,
  };
}

/**
 * One epoch's batches: the example-weighted loss sum (as model.fit reports
 * the epoch loss), batch progress, a yield to the event loop every
 * YIELD_EVERY_MS, and the batch at which a cancellation stopped it.
 */
async function trainEpoch(
  trainer: SparseTrainingStep,
  train: ExampleSet,
  epoch: number,
  options: TrainingOptions,
  { signal, onProgress }: TrainingHooks,
  clock: { lastYield: number },
): Promise<{ lossSum: number; examples: number; cancelledAtBatch?: number }> {
  const total = train.users.length;
  const batches = Math.ceil(total / options.batchSize);
  let lossSum = 0;
  let examples = 0;
  let batchesDone = 0;
  for (let start = 0; start < total; start += options.batchSize) {
    const end = Math.min(total, start + options.batchSize);
    const batchLoss = trainer.step(train.users, train.products, train.labels, start, end);
    lossSum += batchLoss * (end - start);
    examples += end - start;
    batchesDone++;
    if (onProgress && (batchesDone % options.progressEveryBatches === 0 || batchesDone === batches)) {
      onProgress({ kind: 'batch', epoch, epochs: options.epochs, batch: batchesDone, batches, loss: batchLoss });
    }
    if (performance.now() - clock.lastYield >= YIELD_EVERY_MS) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      clock.lastYield = performance.now();
    }
    if (signal?.aborted) return { lossSum, examples, cancelledAtBatch: batchesDone };
  }
  return { lossSum, examples };
}

export interface TrainingExamples {
  /** fixed (implicit negatives sampled once) so val_loss is comparable across epochs; undefined without a validation split */
  validation: ExampleSet | undefined;
  /**
   * The training examples of a 1-based epoch, shuffled with the epoch's
   * seeded stream: seed mode returns the same arrays every epoch, reshuffled
   * in place; implicit mode re-samples its negatives.
   */
  forEpoch(epoch: number): ExampleSet;
}

/**
 * The seeded validation split and per-epoch training examples that
 * trainNetwork trains on (exported so a benchmark can hand the identical
 * examples to another framework).
 */
export function trainingExamples(history: PurchaseHistory, options: TrainingOptions): TrainingExamples {
  const pairUser = pairUsers(history);
  const split = splitPairs(history.products.length, options.validationSplit, new Random(deriveSeed(options.seed, STREAM.split)));
  const ratings = options.mode === 'seed' ? seedRatings(history) : undefined;
  const sampler = options.mode === 'implicit' ? new NegativeSampler(history, options.negativeSampling) : undefined;

  const examplesFor = (pairIndices: Int32Array, rng: Random): ExampleSet =>
    ratings
      ? ratedExamples(pairIndices, pairUser, history, ratings)
      : implicitExamples(pairIndices, pairUser, history, options.negatives, sampler as NegativeSampler, rng);

  const validation =
    split.validation.length > 0
      ? examplesFor(split.validation, new Random(deriveSeed(options.seed, STREAM.validationNegatives)))
      : undefined;
  const fixedTrain = ratings ? examplesFor(split.train, new Random(0)) : undefined;
  return {
    validation,
    forEpoch: (epoch) => {
      const rng = new Random(deriveSeed(options.seed, STREAM.epoch, epoch));
      return fixedTrain ? shuffleInPlace(fixedTrain, rng) : examplesFor(split.train, rng);
    },
  };
}

/** Shuffles the three arrays together, in place. */
function shuffleInPlace(set: ExampleSet, rng: Random): ExampleSet {
  const { users, products, labels } = set;
  for (let i = users.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    let t = users[i];
    users[i] = users[j];
    users[j] = t;
    t = products[i];
    products[i] = products[j];
    products[j] = t;
    const l = labels[i];
    labels[i] = labels[j];
    labels[j] = l;
  }
  return set;
}
