import type { Readable } from 'node:stream';
import { BadLineLog, type BadLineSummary } from './bad-lines';
import { dataRows, parseId, splitCsvFields } from './csv-lines';
import { NoUsableRowsError } from './errors';
import { GrowableInt32Array } from './growable';
import { readOptionsSchema, type ReadOptions } from './read-options';

export const USERS_HEADER = 'customerId';

export interface UserList {
  source: string;
  /** distinct customer ids, ascending */
  customerIds: Int32Array;
  /** ids listed more than once (kept once) */
  duplicates: number;
  badLines: BadLineSummary;
}

/**
 * Streams `users.csv` (header `customerId`, one id per line) with the same
 * bad-line policy as readPurchases. The list does not size the embedding
 * tables: a listed customer without purchases has nothing to learn from, so
 * serving answers them with the popularity fallback like any unknown id.
 */
export async function readUsers(input: Readable | NodeJS.ReadableStream, options: ReadOptions): Promise<UserList> {
  const opts = readOptionsSchema.parse(options);
  const bad = new BadLineLog(opts.maxBadLineReports);
  const ids = new GrowableInt32Array(1 << 12);
  let dataLines = 0;

  for await (const { lineNumber, text } of dataRows(input, USERS_HEADER, bad, opts.maxLineBytes)) {
    dataLines++;
    const fields = splitCsvFields(text);
    if (fields.length !== 1) {
      bad.add(lineNumber, `expected 1 column (customerId), got ${fields.length}`, text);
      continue;
    }
    const id = parseId(fields[0], opts.maxUserId);
    if (typeof id === 'string') {
      bad.add(lineNumber, `customerId "${fields[0].slice(0, 24)}" ${id}`, text);
      continue;
    }
    ids.push(id);
  }

  if (ids.length === 0) throw new NoUsableRowsError(opts.source, bad.summary(), dataLines);
  const sorted = ids.view().slice().sort();
  let unique = 0;
  for (let i = 0; i < sorted.length; i++) {
    if (i === 0 || sorted[i] !== sorted[i - 1]) sorted[unique++] = sorted[i];
  }
  return {
    source: opts.source,
    customerIds: sorted.slice(0, unique),
    duplicates: sorted.length - unique,
    badLines: bad.summary(),
  };
}
