import { Readable } from 'node:stream';

/**
 * Groups lines into ~64 KiB text chunks and exposes them as a byte stream:
 * one chunk per line would make a 300 MB file cost millions of stream
 * operations, and one string for the whole file would not fit in memory.
 */
export function* chunkLines(lines: Iterable<string>, chunkChars = 1 << 16): Generator<string> {
  let parts: string[] = [];
  let size = 0;
  for (const line of lines) {
    parts.push(line, '\n');
    size += line.length + 1;
    if (size >= chunkChars) {
      yield parts.join('');
      parts = [];
      size = 0;
    }
  }
  if (parts.length > 0) yield parts.join('');
}

/** A byte Readable (not object mode) of the given lines, each terminated by LF. */
export function linesToReadable(lines: Iterable<string>): Readable {
  return Readable.from(chunkLines(lines), { objectMode: false });
}
