import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { BadLineLog } from './bad-lines';

export interface NumberedLine {
  /** 1-based line number in the source, counting blank lines and the header. */
  lineNumber: number;
  /** Line text without its terminator (LF or CRLF) and without a UTF-8 BOM. */
  text: string;
}

/**
 * Reads a text stream line by line without holding the whole file in memory.
 * readline with crlfDelay=Infinity treats CRLF as one terminator; a lone
 * trailing CR (CRLF split across chunks or a CR-only line end) is trimmed too.
 */
export async function* numberedLines(input: Readable | NodeJS.ReadableStream): AsyncGenerator<NumberedLine> {
  const lines = createInterface({ input, crlfDelay: Infinity });
  let lineNumber = 0;
  try {
    for await (const raw of lines) {
      lineNumber++;
      let text = raw;
      if (lineNumber === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      if (text.endsWith('\r')) text = text.slice(0, -1);
      yield { lineNumber, text };
    }
  } finally {
    lines.close();
  }
}

/**
 * Splits a CSV line on commas. The seed's formats never quote, but a field
 * wrapped in one pair of double quotes (as spreadsheet exports do) is
 * unwrapped; commas inside quotes are not supported and count as extra columns.
 */
export function splitCsvFields(text: string): string[] {
  return text.split(',').map((field) => {
    const trimmed = field.trim();
    if (trimmed.length >= 2 && trimmed.startsWith('"') && trimmed.endsWith('"')) return trimmed.slice(1, -1).trim();
    return trimmed;
  });
}

const NON_NEGATIVE_INTEGER = /^\d+$/;

/**
 * Parses a non-negative integer id. Returns the id, or a reason string when
 * the text is not a plain decimal integer (signs, decimals, exponents and
 * hex are all rejected) or exceeds `max`.
 */
export function parseId(text: string, max: number): number | string {
  const t = text.trim();
  if (t.length === 0) return 'is empty';
  if (!NON_NEGATIVE_INTEGER.test(t)) {
    return t.startsWith('-') && NON_NEGATIVE_INTEGER.test(t.slice(1)) ? 'is negative' : 'is not a non-negative integer';
  }
  const value = Number(t);
  if (value > max) return `exceeds the largest accepted id ${max}`;
  return value;
}

/** Header match ignores surrounding whitespace, quotes and letter case. */
export function isHeader(text: string, header: string): boolean {
  const got = splitCsvFields(text).map((f) => f.toLowerCase());
  const want = header.toLowerCase().split(',');
  return got.length === want.length && got.every((f, i) => f === want[i]);
}

/**
 * The data lines of a CSV with a header: blank lines are skipped anywhere;
 * the first non-blank line must be `header` (else it is reported as a bad
 * line, and counts as the header all the same).
 */
export async function* dataRows(input: Readable | NodeJS.ReadableStream, header: string, bad: BadLineLog): AsyncGenerator<NumberedLine> {
  let sawHeaderLine = false;
  for await (const line of numberedLines(input)) {
    if (line.text.trim().length === 0) continue;
    if (!sawHeaderLine) {
      sawHeaderLine = true;
      if (!isHeader(line.text, header)) bad.add(line.lineNumber, `expected header "${header}"`, line.text);
      continue;
    }
    yield line;
  }
}
