/**
 * Purchase-time context for the linear model: each customer's activity over
 * the history's clock (`PurchaseHistory.positions`), counted in `bins` equal
 * bins (one count per product bought), smoothed by a Gaussian `bandwidth`
 * bins wide and normalised to sum 1. Appended to the
 * customer's history row as extra EASE inputs, these columns learn which
 * products sell while the customer was buying: on the seed data products
 * come and go over the history, which item-item weights alone cannot see
 * (docs/ml.md, "Purchase-time context").
 */
import { z } from 'zod';
import type { PurchaseHistory } from '../dataset/purchase-history';

export const timeContextSchema = z.strictObject({
  /** bins over the history's clock; 0 = no time context */
  bins: z.number().int().min(0).max(1000),
  /** Gaussian smoothing, in bins */
  bandwidth: z.number().positive().max(1000),
  /**
   * the context columns enter EASE scaled by weight × √(mean item diagonal
   * of the Gram matrix): a column scaled by a is penalised as λ/a², so this
   * keeps their strength relative to the history columns whatever the
   * catalogue's density (like the scale-free λ), and one Gram matrix serves
   * every λ of the per-retrain selection (selection.ts)
   */
  weight: z.number().positive().max(1000),
});
export type TimeContextOptions = z.output<typeof timeContextSchema>;

/** Chosen on the validation splits of both real data sets (docs/ml.md). */
export const DEFAULT_TIME_CONTEXT: TimeContextOptions = { bins: 50, bandwidth: 2, weight: 0.17 };

/** Extra input columns per customer, row-major [userRows, columns]. */
export interface RowContext {
  columns: number;
  rows: Float32Array;
}

export function timeContext(history: PurchaseHistory, o: TimeContextOptions): RowContext {
  const T = o.bins;
  const kernel = new Float32Array(T * T);
  for (let a = 0; a < T; a++) for (let b = 0; b < T; b++) kernel[a * T + b] = Math.exp(-0.5 * ((a - b) / o.bandwidth) ** 2);
  const rows = new Float32Array(history.userRows * T);
  for (let u = 0; u < history.userRows; u++) {
    const from = history.userOffsets[u];
    const to = history.userOffsets[u + 1];
    if (to === from) continue;
    const row = rows.subarray(u * T, (u + 1) * T);
    for (let k = from; k < to; k++) {
      const bin = Math.min(T - 1, Math.floor(history.positions[k] * T));
      for (let t = 0; t < T; t++) row[t] += kernel[bin * T + t];
    }
    let sum = 0;
    for (let t = 0; t < T; t++) sum += row[t];
    for (let t = 0; t < T; t++) row[t] /= sum;
  }
  return { columns: T, rows };
}
