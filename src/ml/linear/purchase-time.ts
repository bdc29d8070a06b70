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

/**
 * The context row of a customer with no activity but "now": the same
 * Gaussian centred on the clock's last bin (the time a request is
 * answered, after the history's end), normalised to sum 1.
 */
export function nowRow(columns: number, bandwidth: number): Float32Array {
  const row = Float32Array.from({ length: columns }, (_, t) => Math.exp(-0.5 * ((columns - 1 - t) / bandwidth) ** 2));
  const sum = row.reduce((a, b) => a + b, 0);
  return row.map((v) => v / sum);
}

/**
 * The rows served at request time: a share `nowShare` of each customer's
 * context mass moved to "now" (nowRow), the rest left on their activity.
 * The activity context says when a customer bought; a served answer is for
 * their next purchase, after the history's end (docs/ml.md, "The served
 * clock"). Share 0 returns `context` itself.
 */
export function atServingTime(context: RowContext, nowShare: number, bandwidth: number): RowContext {
  if (nowShare === 0) return context;
  const C = context.columns;
  const now = nowRow(C, bandwidth);
  const rows = new Float32Array(context.rows.length);
  for (let u = 0; u < rows.length / C; u++) {
    const row = context.rows.subarray(u * C, (u + 1) * C);
    const mass = row.reduce((a, b) => a + b, 0);
    for (let t = 0; t < C; t++) rows[u * C + t] = (1 - nowShare) * row[t] + nowShare * mass * now[t];
  }
  return { columns: C, rows };
}
