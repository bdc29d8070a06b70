import { describe, expect, it } from 'vitest';
import { trainingSteps } from '../../src/cli/run-progress';

describe('training progress for people', () => {
  it('names the linear default closed-form steps (no meaningless loss), and the network epochs with their loss', () => {
    expect(trainingSteps({ epoch: 3, epochs: 22, stage: 'selection' })).toEqual({ done: 3, total: 22, label: 'selection step 3/22' });
    expect(trainingSteps({ epoch: 22, epochs: 22, stage: 'fit' })?.label).toBe('fit step 22/22');
    expect(trainingSteps({ epoch: 2, epochs: 10, batch: 5, batches: 10, loss: 0.31234 })).toEqual({
      done: 15,
      total: 100,
      label: 'epoch 2/10 · loss 0.3123',
    });
  });
});
