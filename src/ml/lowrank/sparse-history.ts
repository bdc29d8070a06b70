/**
 * Products with the (row-weighted) binary history matrix X [customers ×
 * products] without ever forming it: X is the history's CSR, and each
 * product is computed over chunks of customers by a gather of the dense
 * factor's rows and an unsortedSegmentSum (both native TensorFlow kernels).
 * Memory per chunk is O(pairs in the chunk × columns); nothing of size
 * customers × products or products × products exists.
 */
import { setImmediate as nextTick } from 'node:timers/promises';
import * as tf from '@tensorflow/tfjs-node';
import type { PurchaseHistory } from '../dataset/purchase-history';

/** (customer, product) pairs per chunk: a [pairs, columns] float32 gather is ~128 MB at 256 columns. */
const PAIRS_PER_CHUNK = 1 << 17;

interface Chunk {
  /** customers [from, to) */
  from: number;
  to: number;
}

export class SparseHistory {
  readonly users: number;
  readonly products: number;
  private readonly chunks: Chunk[] = [];

  /**
   * `rowWeights[u]` scales customer u's row of X in `gramTimes` (the Gram
   * XᵀW²X); `rowsTimes` uses the plain binary rows.
   */
  constructor(
    private readonly history: PurchaseHistory,
    private readonly rowWeights: Float32Array,
    pairsPerChunk = PAIRS_PER_CHUNK,
  ) {
    if (rowWeights.length !== history.userRows)
      throw new Error(`rowWeights has ${rowWeights.length} entries, expected ${history.userRows}`);
    this.users = history.userRows;
    this.products = history.productRows;
    const offsets = history.userOffsets;
    for (let from = 0; from < this.users;) {
      let to = from + 1;
      while (to < this.users && offsets[to + 1] - offsets[from] <= pairsPerChunk) to++;
      this.chunks.push({ from, to });
      from = to;
    }
  }

  /** Pair-level index tensors of one chunk: product ids, customer ids relative to `from`, and row weights. */
  private chunkTensors(c: Chunk, weighted: boolean): { products: tf.Tensor1D; local: tf.Tensor1D; weights: tf.Tensor2D | null } {
    const { userOffsets, products } = this.history;
    const a = userOffsets[c.from];
    const b = userOffsets[c.to];
    const local = new Int32Array(b - a);
    const weights = weighted ? new Float32Array(b - a) : null;
    for (let u = c.from; u < c.to; u++) {
      local.fill(u - c.from, userOffsets[u] - a, userOffsets[u + 1] - a);
      weights?.fill(this.rowWeights[u], userOffsets[u] - a, userOffsets[u + 1] - a);
    }
    return {
      products: tf.tensor1d(products.subarray(a, b), 'int32'),
      local: tf.tensor1d(local, 'int32'),
      weights: weights ? tf.tensor2d(weights, [weights.length, 1]) : null,
    };
  }

  /** Z = XᵀW²X·q for q [products, m]: the Gram matrix applied to q, one chunk of customers at a time. */
  async gramTimes(q: tf.Tensor2D, signal?: AbortSignal): Promise<tf.Tensor2D> {
    this.expectRows(q, this.products);
    let z = tf.zeros([this.products, q.shape[1]]) as tf.Tensor2D;
    for (const c of this.chunks) {
      if (this.history.userOffsets[c.to] === this.history.userOffsets[c.from]) continue;
      const next = tf.tidy(() => {
        const t = this.chunkTensors(c, true);
        const w = t.weights!;
        // y = W·X_c·q  [chunk customers, m]
        const y = tf.unsortedSegmentSum(tf.mul(tf.gather(q, t.products), w), t.local, c.to - c.from);
        // z += X_cᵀ·W·y
        return tf.add(z, tf.unsortedSegmentSum(tf.mul(tf.gather(y, t.local), w), t.products, this.products)) as tf.Tensor2D;
      });
      z.dispose();
      z = next;
      await this.yieldOrAbort(signal, z);
    }
    return z;
  }

  /**
   * X·v for v [products, m] with the binary rows, handed to `onRows(from, to,
   * rows)` per chunk of customers (rows row-major [to − from, m]), so the
   * caller decides where the [customers, m] result lives.
   */
  async rowsTimes(v: tf.Tensor2D, onRows: (from: number, to: number, rows: Float32Array) => void, signal?: AbortSignal): Promise<void> {
    this.expectRows(v, this.products);
    const m = v.shape[1];
    for (const c of this.chunks) {
      if (this.history.userOffsets[c.to] === this.history.userOffsets[c.from]) {
        onRows(c.from, c.to, new Float32Array((c.to - c.from) * m));
        continue;
      }
      const product = tf.tidy(() => {
        const t = this.chunkTensors(c, false);
        return tf.unsortedSegmentSum(tf.gather(v, t.products), t.local, c.to - c.from);
      });
      // read outside tidy: tidy would walk the returned typed array element by element
      const rows = product.dataSync() as Float32Array;
      product.dispose();
      onRows(c.from, c.to, rows);
      await this.yieldOrAbort(signal);
    }
  }

  private expectRows(t: tf.Tensor2D, rows: number): void {
    if (t.shape[0] !== rows) throw new Error(`factor has ${t.shape[0]} rows, the history has ${rows} products`);
  }

  /** Lets the event loop run (heartbeats) between chunks; on abort frees `pending` and throws. */
  private async yieldOrAbort(signal: AbortSignal | undefined, pending?: tf.Tensor): Promise<void> {
    await nextTick();
    if (signal?.aborted) {
      pending?.dispose();
      throw new LowRankAborted();
    }
  }
}

/** Raised inside the low-rank solver when the training signal aborts; the recommender turns it into TrainingCancelledError. */
export class LowRankAborted extends Error {
  constructor() {
    super('low-rank training cancelled');
    this.name = 'LowRankAborted';
  }
}
