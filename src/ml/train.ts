import * as tf from '@tensorflow/tfjs-node';
import { pairUsers, type PurchaseHistory } from './dataset/purchase-history';
import { implicitExamples, NegativeSampler, ratedExamples, splitPairs, type ExampleSet } from './examples';
import { buildNetwork } from './model';
import type { TrainingOptions } from './options';
import { TrainingCancelledError, type TrainingHooks } from './progress';
import { deriveSeed, Random } from './random';
import { seedRatings } from './ratings';

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
const STREAM = { split: 11, validationNegatives: 12, epoch: 13 } as const;

/**
 * Trains the network on the native backend, one model.fit call per epoch so
 * implicit negatives can be re-sampled every epoch. Emits batch and epoch
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

  const pairUser = pairUsers(history);
  const split = splitPairs(history.products.length, options.validationSplit, new Random(deriveSeed(options.seed, STREAM.split)));
  const ratings = options.mode === 'seed' ? seedRatings(history) : undefined;
  const sampler = options.mode === 'implicit' ? new NegativeSampler(history, options.negativeSampling) : undefined;

  const examplesFor = (pairIndices: Int32Array, rng: Random): ExampleSet =>
    ratings
      ? ratedExamples(pairIndices, pairUser, history, ratings)
      : implicitExamples(pairIndices, pairUser, history, options.negatives, sampler as NegativeSampler, rng);

  // Fixed validation set (negatives sampled once) so val_loss is comparable across epochs.
  const validation = split.validation.length > 0 ? examplesFor(split.validation, new Random(deriveSeed(options.seed, STREAM.validationNegatives))) : undefined;
  // Seed mode trains on the same (shuffled once more per epoch) examples every epoch.
  const fixedTrain = ratings ? examplesFor(split.train, new Random(0)) : undefined;

  const model = buildNetwork({
    userRows: history.userRows,
    productRows: history.productRows,
    embeddingDim: options.embeddingDim,
    hiddenUnits: options.hiddenUnits,
    dropout: options.dropout,
    outputActivation: options.outputActivation,
    seed: options.seed,
  });
  const optimizer = tf.train.adam(options.learningRate);
  model.compile({ optimizer, loss: options.loss });

  const validationTensors = validation ? toTensors(validation) : undefined;
  const lossHistory: EpochLoss[] = [];
  let examplesPerEpoch = 0;
  let trainedExamples = 0;
  let cancelledAt: { epoch: number; batch: number } | undefined;
  const started = performance.now();

  try {
    for (let epoch = 1; epoch <= options.epochs && !cancelledAt; epoch++) {
      const epochRng = new Random(deriveSeed(options.seed, STREAM.epoch, epoch));
      const train = fixedTrain ? shuffleInPlace(fixedTrain, epochRng) : examplesFor(split.train, epochRng);
      examplesPerEpoch = train.users.length;
      const batches = Math.ceil(examplesPerEpoch / options.batchSize);
      const epochStarted = performance.now();
      const [x, y] = toTensors(train);
      let batchesDone = 0;
      try {
        const fitted = await model.fit(x, y, {
          epochs: 1,
          batchSize: options.batchSize,
          shuffle: false, // already shuffled with the seeded PRNG
          verbose: 0,
          validationData: validationTensors,
          callbacks: {
            onBatchEnd: (batch: number, logs?: tf.Logs) => {
              batchesDone = batch + 1;
              if (onProgress && (batchesDone % options.progressEveryBatches === 0 || batchesDone === batches)) {
                onProgress({ kind: 'batch', epoch, epochs: options.epochs, batch: batchesDone, batches, loss: logs?.['loss'] ?? NaN });
              }
              if (signal?.aborted) {
                cancelledAt = { epoch, batch: batchesDone };
                model.stopTraining = true;
              }
              return Promise.resolve();
            },
          },
        });
        trainedExamples += Math.min(examplesPerEpoch, batchesDone * options.batchSize);
        if (cancelledAt) break;
        const loss = lastValue(fitted.history['loss']);
        const valLoss = validationTensors ? lastValue(fitted.history['val_loss']) : null;
        if (!Number.isFinite(loss)) throw new Error(`training diverged: loss is ${loss} after epoch ${epoch}`);
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
      } finally {
        x.forEach((t) => t.dispose());
        y.dispose();
      }
      if (signal?.aborted && !cancelledAt) cancelledAt = { epoch, batch: batchesDone };
    }
  } catch (error) {
    model.dispose();
    throw error;
  } finally {
    validationTensors?.[0].forEach((t) => t.dispose());
    validationTensors?.[1].dispose();
    // Adam's slot variables are tensors too; the model does not own an optimizer instance passed to compile().
    optimizer.dispose();
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

function toTensors(set: ExampleSet): [tf.Tensor[], tf.Tensor] {
  const n = set.users.length;
  return [[tf.tensor2d(set.users, [n, 1], 'int32'), tf.tensor2d(set.products, [n, 1], 'int32')], tf.tensor2d(set.labels, [n, 1], 'float32')];
}

function lastValue(values: (number | tf.Tensor)[] | undefined): number {
  const last = values?.[values.length - 1];
  if (last === undefined) return NaN;
  return typeof last === 'number' ? last : (last.dataSync()[0] ?? NaN);
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
