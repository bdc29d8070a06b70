/**
 * Progress events, shaped so a Temporal activity can forward each one as a
 * heartbeat detail (small, JSON-serializable, no tensors).
 */
export type TrainingProgress =
  | {
      kind: 'batch';
      /** 1-based */
      epoch: number;
      epochs: number;
      /** batches completed in this epoch */
      batch: number;
      batches: number;
      /** loss of this batch */
      loss: number;
    }
  | {
      kind: 'epoch';
      /** 1-based */
      epoch: number;
      epochs: number;
      /** mean training loss over the epoch */
      loss: number;
      /** null when there is no validation set */
      valLoss: number | null;
      seconds: number;
      examples: number;
    }
  | {
      kind: 'evaluate';
      /** customers scored so far */
      scored: number;
      users: number;
    };

export interface TrainingHooks {
  onProgress?: (progress: TrainingProgress) => void;
  /** aborting stops training after the current batch (or evaluation chunk) with TrainingCancelledError */
  signal?: AbortSignal;
}

/** Thrown when the AbortSignal fires; the partly trained model has already been disposed. */
export class TrainingCancelledError extends Error {
  override readonly name = 'TrainingCancelledError';

  /**
   * @param epoch 1-based epoch reached (0 before training or during evaluation)
   * @param batch batches done in that epoch; during evaluation, customers scored
   */
  constructor(
    readonly phase: 'train' | 'evaluate',
    readonly epoch: number,
    readonly batch: number,
  ) {
    super(
      phase === 'train'
        ? `training cancelled (epoch ${epoch}, after batch ${batch})`
        : `training cancelled during evaluation (after ${batch} customers scored)`,
    );
  }
}
