import { describeBadLines, type BadLineSummary } from './bad-lines';

/**
 * Thrown when a source yields no usable rows, before anything is trained:
 * training on nothing would produce a model that answers every request with
 * noise, so the pipeline must stop here with the reason in the message.
 */
export class NoUsableRowsError extends Error {
  override readonly name = 'NoUsableRowsError';

  constructor(
    readonly source: string,
    readonly badLines: BadLineSummary,
    readonly dataLines: number,
  ) {
    super(`${source}: no usable rows (${dataLines} data line${dataLines === 1 ? '' : 's'} read, ${describeBadLines(badLines)})`);
  }
}

/**
 * Thrown when the ids are so sparse that the tables they size would be
 * absurd for the data (a 38-byte file `16777215,16777215` would size
 * tables of 16.7 M rows): ids are rows, so they must be roughly dense. Names
 * the line of the largest id. Not retryable: the data has to change.
 */
export class SparseIdsError extends Error {
  override readonly name = 'SparseIdsError';

  constructor(
    readonly source: string,
    readonly line: number,
    what: 'customer' | 'product',
    id: number,
    distinct: number,
    limit: number,
  ) {
    super(
      `${source}: line ${line}: ${what} id ${id} would size a table of ${id + 1} rows for no more than ${distinct} distinct ${what}${distinct === 1 ? '' : 's'} ` +
        `(at most ${limit}: ids are table rows and must be close to dense)`,
    );
  }
}

/** Most table rows allowed for `distinct` ids: a few times the ids in use, and some slack for small data. */
export function denseRowLimit(distinct: number): number {
  return 1024 + 8 * distinct;
}
