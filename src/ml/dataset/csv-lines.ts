import type { Readable } from 'node:stream';
import type { BadLineLog } from './bad-lines';

export interface NumberedLine {
  /** 1-based line number in the source, counting blank lines and the header. */
  lineNumber: number;
  /** Line text without its terminator (LF or CRLF) and without a UTF-8 BOM; only its start when `tooLong`. */
  text: string;
  /** set when the line had more than the cap's bytes: its length in bytes (the rest was skipped unread) */
  tooLong?: number;
}

/** The longest line read whole by default: far above any real basket, far below V8's string limit. */
export const DEFAULT_MAX_LINE_BYTES = 1024 * 1024;

const LF = 0x0a;
const HEAD_BYTES = 256;

/**
 * Reads a text stream line by line without holding the whole file in memory.
 * LF ends a line, a CR before it is trimmed (CRLF). A line longer than
 * `maxLineBytes` is not assembled: only its first bytes are kept and it is
 * handed on with `tooLong` (a 512 MiB line without a newline would otherwise
 * end in a RangeError from the string it cannot become).
 */
export async function* numberedLines(
  input: Readable | NodeJS.ReadableStream,
  maxLineBytes = DEFAULT_MAX_LINE_BYTES,
): AsyncGenerator<NumberedLine> {
  let parts: Buffer[] = [];
  let bytes = 0;
  let lineNumber = 0;
  const finish = (): NumberedLine => {
    lineNumber++;
    const whole = bytes <= maxLineBytes;
    let text = Buffer.concat(parts).toString('utf8');
    if (lineNumber === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    if (whole && text.endsWith('\r')) text = text.slice(0, -1);
    const line: NumberedLine = whole ? { lineNumber, text } : { lineNumber, text, tooLong: bytes };
    parts = [];
    bytes = 0;
    return line;
  };
  const keep = (chunk: Buffer): void => {
    // past the cap only the head is kept (for the report); the rest is counted
    if (bytes <= maxLineBytes) parts.push(bytes + chunk.length <= maxLineBytes ? chunk : chunk.subarray(0, HEAD_BYTES));
    bytes += chunk.length;
    if (bytes > maxLineBytes && parts.length > 0) parts = [Buffer.concat(parts).subarray(0, HEAD_BYTES)];
  };
  for await (const raw of input as AsyncIterable<Buffer | string>) {
    const chunk = typeof raw === 'string' ? Buffer.from(raw) : raw;
    let from = 0;
    for (let at = chunk.indexOf(LF, from); at >= 0; at = chunk.indexOf(LF, from)) {
      keep(chunk.subarray(from, at));
      yield finish();
      from = at + 1;
    }
    if (from < chunk.length) keep(chunk.subarray(from));
  }
  if (bytes > 0) yield finish();
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
export async function* dataRows(
  input: Readable | NodeJS.ReadableStream,
  header: string,
  bad: BadLineLog,
  maxLineBytes = DEFAULT_MAX_LINE_BYTES,
): AsyncGenerator<NumberedLine> {
  let sawHeaderLine = false;
  for await (const line of numberedLines(input, maxLineBytes)) {
    if (line.tooLong !== undefined) {
      sawHeaderLine = true;
      bad.add(line.lineNumber, `line of ${line.tooLong} bytes is longer than the limit of ${maxLineBytes} bytes`, line.text);
      continue;
    }
    if (line.text.trim().length === 0) continue;
    if (!sawHeaderLine) {
      sawHeaderLine = true;
      if (!isHeader(line.text, header)) bad.add(line.lineNumber, `expected header "${header}"`, line.text);
      continue;
    }
    yield line;
  }
}
