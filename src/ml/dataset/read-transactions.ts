import type { Readable } from 'node:stream';
import { BadLineLog } from './bad-lines';
import { dataRows, parseId, splitCsvFields } from './csv-lines';
import { NoUsableRowsError, SparseIdsError, denseRowLimit } from './errors';
import { PurchaseHistoryBuilder, type PurchaseHistory } from './purchase-history';
import { readOptionsSchema, type ReadOptions } from './read-options';

export const TRANSACTIONS_HEADER = 'customerId,products';

/**
 * Streams `transactions.csv` (header `customerId,products`, products a
 * `|`-separated list of integer ids, repeats = repeated purchases) into a
 * PurchaseHistory.
 *
 * Bad-line policy: a line that is not exactly the expected header (line 1) or
 * a valid data row is skipped, counted, and (for the first
 * `maxBadLineReports`) reported with its line number and reason. Blank lines
 * are ignored anywhere. If no data row survives, NoUsableRowsError is thrown.
 */
export async function readPurchases(input: Readable | NodeJS.ReadableStream, options: ReadOptions): Promise<PurchaseHistory> {
  const opts = readOptionsSchema.parse(options);
  const bad = new BadLineLog(opts.maxBadLineReports);
  const builder = new PurchaseHistoryBuilder();
  const basket: number[] = [];
  let dataLines = 0;
  let purchases = 0;
  const largest = { user: { id: -1, line: 0 }, product: { id: -1, line: 0 } };

  for await (const { lineNumber, text } of dataRows(input, TRANSACTIONS_HEADER, bad, opts.maxLineBytes)) {
    dataLines++;
    const problem = parseTransaction(text, opts.maxUserId, opts.maxProductId, basket);
    if (typeof problem === 'string') {
      bad.add(lineNumber, problem, text);
      continue;
    }
    builder.addBasket(problem, basket);
    purchases += basket.length;
    if (problem > largest.user.id) largest.user = { id: problem, line: lineNumber };
    for (const p of basket) if (p > largest.product.id) largest.product = { id: p, line: lineNumber };
  }

  if (builder.transactionCount === 0) throw new NoUsableRowsError(opts.source, bad.summary(), dataLines);
  // before building (which allocates per row): there cannot be more distinct ids than lines or purchases
  if (largest.user.id + 1 > denseRowLimit(builder.transactionCount)) {
    const { id, line } = largest.user;
    throw new SparseIdsError(opts.source, line, 'customer', id, builder.transactionCount, denseRowLimit(builder.transactionCount));
  }
  if (largest.product.id + 1 > denseRowLimit(purchases)) {
    throw new SparseIdsError(opts.source, largest.product.line, 'product', largest.product.id, purchases, denseRowLimit(purchases));
  }
  const history = builder.build(opts.source, bad.summary());
  checkDensity(history, largest);
  return history;
}

/** Throws SparseIdsError when the largest customer or product id sizes a table far beyond the ids in use. */
function checkDensity(history: PurchaseHistory, largest: Record<'user' | 'product', { id: number; line: number }>): void {
  const customers = history.stats.customers;
  if (history.userRows > denseRowLimit(customers)) {
    throw new SparseIdsError(history.source, largest.user.line, 'customer', largest.user.id, customers, denseRowLimit(customers));
  }
  const bought = new Uint8Array(history.productRows);
  for (const p of history.products) bought[p] = 1;
  const products = bought.reduce((n, b) => n + b, 0);
  if (history.productRows > denseRowLimit(products)) {
    throw new SparseIdsError(history.source, largest.product.line, 'product', largest.product.id, products, denseRowLimit(products));
  }
}

/**
 * Parses one data row into `basket` (cleared first). Returns the customer id,
 * or the reason the row is unusable.
 */
export function parseTransaction(text: string, maxUserId: number, maxProductId: number, basket: number[]): number | string {
  basket.length = 0;
  const fields = splitCsvFields(text);
  if (fields.length !== 2) return `expected 2 columns (customerId,products), got ${fields.length}`;
  const [customerField, productsField] = fields;
  const customer = parseId(customerField, maxUserId);
  if (typeof customer === 'string') return `customerId "${clip(customerField)}" ${customer}`;
  if (productsField.length === 0) return 'empty product list';
  const tokens = productsField.split('|');
  for (let i = 0; i < tokens.length; i++) {
    const product = parseId(tokens[i], maxProductId);
    if (typeof product === 'string') return `product ${i + 1} "${clip(tokens[i])}" ${product}`;
    basket.push(product);
  }
  return customer;
}

function clip(text: string): string {
  return text.length > 24 ? `${text.slice(0, 24)}…` : text;
}
