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
