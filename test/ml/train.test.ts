import * as tf from '@tensorflow/tfjs-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { TrainingCancelledError, trainRecommender, type PurchaseHistory, type TrainingProgress } from '../../src/ml';
import { generatedHistory } from '../helpers/purchases';

describe('training', () => {
  let history: PurchaseHistory;
  beforeAll(async () => {
    history = await generatedHistory({ seed: 11, users: 300, products: 60 });
    // Warm-up so one-time backend initialisation is not counted as a leak.
    (await trainRecommender(history, { epochs: 1, holdout: false })).dispose();
  });

  for (const mode of ['implicit', 'seed'] as const) {
    it(`${mode}: reports batch and epoch progress and leaves no tensor behind`, async () => {
      const before = tf.memory().numTensors;
      const events: TrainingProgress[] = [];
      const result = await trainRecommender(history, { mode, epochs: 2, progressEveryBatches: 5 }, { onProgress: (e) => events.push(e) });
      // The returned model's weights are the only tensors left.
      expect(tf.memory().numTensors).toBeGreaterThan(before);
      result.dispose();
      result.dispose(); // idempotent
      expect(tf.memory().numTensors).toBe(before);

      const epochs = events.filter((e) => e.kind === 'epoch');
      expect(epochs.map((e) => e.epoch)).toEqual([1, 2]);
      for (const e of epochs) {
        expect(Number.isFinite(e.loss)).toBe(true);
        expect(Number.isFinite(e.valLoss)).toBe(true);
      }
      const batches = events.filter((e) => e.kind === 'batch');
      expect(batches.length).toBeGreaterThan(2);
      expect(batches.every((b) => b.batch % 5 === 0 || b.batch === b.batches)).toBe(true);
      expect(events.some((e) => e.kind === 'evaluate')).toBe(true);
      // progress events are plain data, fit for heartbeat details
      expect(JSON.parse(JSON.stringify(events))).toEqual(events);

      const m = result.metrics;
      expect(m.lossHistory).toHaveLength(2);
      expect(m.valLoss).toBe(m.lossHistory[1].valLoss);
      expect(m.evaluated).toBe(true);
    });
  }

  it('stops promptly between batches when aborted, with a cancelled error and no leaked tensor', async () => {
    const before = tf.memory().numTensors;
    const controller = new AbortController();
    const batches: TrainingProgress[] = [];
    const run = trainRecommender(
      history,
      { mode: 'seed', epochs: 3, progressEveryBatches: 1 },
      {
        signal: controller.signal,
        onProgress: (e) => {
          if (e.kind === 'batch') {
            batches.push(e);
            controller.abort();
          }
        },
      },
    );
    const error = await run.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(TrainingCancelledError);
    expect(error).toMatchObject({ phase: 'train', epoch: 1, batch: 1 });
    expect(batches).toHaveLength(1);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('yields to the event loop while training, so a timer can abort it (heartbeats and cancellation arrive that way)', async () => {
    const before = tf.memory().numTensors;
    const controller = new AbortController();
    // Without yielding, 200 epochs would run to completion before the timer could fire.
    setTimeout(() => controller.abort(), 0);
    const error = await trainRecommender(history, { mode: 'seed', epochs: 200, holdout: false }, { signal: controller.signal }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(TrainingCancelledError);
    expect(error).toMatchObject({ phase: 'train', epoch: 1 });
    expect(tf.memory().numTensors).toBe(before);
  });

  it('is reproducible: the same seed gives the same weights (dropout masks are seeded too)', async () => {
    const options = { mode: 'seed', epochs: 1, holdout: false } as const;
    const [a, b] = [await trainRecommender(history, options), await trainRecommender(history, options)];
    const c = await trainRecommender(history, { ...options, seed: 43 });
    try {
      expect(Array.from(a.weights().userEmbedding.values)).toEqual(Array.from(b.weights().userEmbedding.values));
      expect(Array.from(a.weights().hidden.kernel)).toEqual(Array.from(b.weights().hidden.kernel));
      expect(a.metrics.lossHistory).toEqual(b.metrics.lossHistory);
      expect(Array.from(c.weights().hidden.kernel)).not.toEqual(Array.from(a.weights().hidden.kernel));
    } finally {
      [a, b, c].forEach((t) => t.dispose());
    }
  });

  it('can be cancelled during evaluation without leaking', async () => {
    const before = tf.memory().numTensors;
    const controller = new AbortController();
    const error = await trainRecommender(
      history,
      { epochs: 1, maxEvalUsers: 300 },
      { signal: controller.signal, onProgress: (e) => e.kind === 'evaluate' && controller.abort() },
    ).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(TrainingCancelledError);
    expect(error).toMatchObject({ phase: 'evaluate' });
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses to start when the signal is already aborted', async () => {
    const before = tf.memory().numTensors;
    await expect(trainRecommender(history, {}, { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(TrainingCancelledError);
    expect(tf.memory().numTensors).toBe(before);
  });
});
