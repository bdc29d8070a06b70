/**
 * Server-side batching of concurrent predict calls, as TF Serving's
 * `--enable_batching` does: calls for the same servable that arrive while a
 * batch is open are scored in ONE session run and the scores handed back to
 * each caller. A session run has a fixed cost far above the per-row cost
 * (docs/serving.md), so under concurrency this trades a wait of at most
 * `batchTimeoutMicros` for fewer runs.
 *
 * Options, as TF Serving names them: `maxBatchSize` (rows; a batch is run
 * as soon as it reaches it) and `batchTimeoutMicros` (how long the first call
 * of a batch waits for others; 0 = only calls that arrived in the same
 * event-loop turn, which adds no wait at one call in flight).
 *
 * One bad call must not fail the others: when a combined run is refused
 * (e.g. an id beyond the tables), each call of the batch is run alone, so
 * only the bad one gets the error.
 */

export interface BatchingOptions {
  /** most rows in one combined session run */
  maxBatchSize: number;
  /** how long a batch stays open for more calls, in microseconds (0: the current event-loop turn only) */
  batchTimeoutMicros: number;
}

export const DEFAULT_BATCHING: BatchingOptions = { maxBatchSize: 20_000, batchTimeoutMicros: 0 };

/** Scores `size` rows given as named int32 columns; throws on a refused call. */
export type ScoreFn = (columns: Record<string, Int32Array>, size: number) => Float32Array;

interface Pending {
  columns: Record<string, Int32Array>;
  size: number;
  resolve: (scores: Float32Array) => void;
  reject: (error: unknown) => void;
}

interface OpenBatch {
  calls: Pending[];
  rows: number;
}

export class PredictBatcher<K extends object> {
  private readonly open = new Map<K, OpenBatch>();
  /** combined session runs, and calls that went into them (for metrics and tests) */
  readonly stats = { runs: 0, calls: 0 };

  constructor(private readonly options: BatchingOptions) {}

  /** Scores one call, possibly together with others for the same `servable`. */
  score(servable: K, run: ScoreFn, columns: Record<string, Int32Array>, size: number): Promise<Float32Array> {
    // a call at least as large as a batch gains nothing from waiting
    if (size >= this.options.maxBatchSize) return Promise.resolve().then(() => this.runAlone(run, columns, size));
    return new Promise<Float32Array>((resolve, reject) => {
      let batch = this.open.get(servable);
      if (batch && batch.rows + size > this.options.maxBatchSize) {
        this.flush(servable, run);
        batch = undefined;
      }
      if (!batch) {
        batch = { calls: [], rows: 0 };
        this.open.set(servable, batch);
        this.schedule(servable, run, batch);
      }
      batch.calls.push({ columns, size, resolve, reject });
      batch.rows += size;
    });
  }

  private schedule(servable: K, run: ScoreFn, batch: OpenBatch): void {
    const fire = () => {
      if (this.open.get(servable) === batch) this.flush(servable, run);
    };
    if (this.options.batchTimeoutMicros <= 0) setImmediate(fire);
    else setTimeout(fire, this.options.batchTimeoutMicros / 1000);
  }

  private flush(servable: K, run: ScoreFn): void {
    const batch = this.open.get(servable);
    if (!batch) return;
    this.open.delete(servable);
    this.stats.runs++;
    this.stats.calls += batch.calls.length;
    if (batch.calls.length === 1) {
      const [call] = batch.calls;
      this.settle(call, () => run(call.columns, call.size));
      return;
    }
    let scores: Float32Array;
    try {
      scores = run(concatColumns(batch.calls, batch.rows), batch.rows);
    } catch {
      // one call spoiled the batch: each alone, so only the bad one fails
      for (const call of batch.calls) this.settle(call, () => run(call.columns, call.size));
      return;
    }
    let offset = 0;
    for (const call of batch.calls) {
      call.resolve(scores.subarray(offset, offset + call.size));
      offset += call.size;
    }
  }

  private runAlone(run: ScoreFn, columns: Record<string, Int32Array>, size: number): Float32Array {
    this.stats.runs++;
    this.stats.calls++;
    return run(columns, size);
  }

  private settle(call: Pending, work: () => Float32Array): void {
    try {
      call.resolve(work());
    } catch (error) {
      call.reject(error);
    }
  }
}

/** The calls' columns end to end, in call order. */
function concatColumns(calls: readonly Pending[], rows: number): Record<string, Int32Array> {
  const out: Record<string, Int32Array> = {};
  for (const name of Object.keys(calls[0].columns)) {
    const column = new Int32Array(rows);
    let offset = 0;
    for (const call of calls) {
      column.set(call.columns[name], offset);
      offset += call.size;
    }
    out[name] = column;
  }
  return out;
}
