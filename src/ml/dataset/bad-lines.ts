/** One rejected input line: where it was and why it was skipped. */
export interface BadLine {
  /** 1-based line number in the source */
  line: number;
  reason: string;
  /** the start of the offending line, for the operator (truncated) */
  text: string;
}

/** What a reader tells about the lines it skipped; JSON-serializable. */
export interface BadLineSummary {
  /** number of lines skipped (every bad line is counted) */
  total: number;
  /** the first `limit` bad lines, in file order */
  reports: BadLine[];
  /** true when total > reports.length */
  truncated: boolean;
}

const MAX_TEXT = 80;

/**
 * Collects bad-line reports: keeps only the first N so that a file of ten
 * million broken lines cannot exhaust memory, but counts them all.
 */
export class BadLineLog {
  private total = 0;
  private readonly reports: BadLine[] = [];

  constructor(private readonly limit: number) {}

  add(line: number, reason: string, text: string): void {
    this.total++;
    if (this.reports.length < this.limit) {
      this.reports.push({ line, reason, text: text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}…` : text });
    }
  }

  get count(): number {
    return this.total;
  }

  summary(): BadLineSummary {
    return { total: this.total, reports: [...this.reports], truncated: this.total > this.reports.length };
  }
}

/** A one-line description of the first few bad lines, for error messages and logs. */
export function describeBadLines(summary: BadLineSummary, max = 3): string {
  if (summary.total === 0) return 'no bad lines';
  const first = summary.reports
    .slice(0, max)
    .map((b) => `line ${b.line}: ${b.reason}`)
    .join('; ');
  return `${summary.total} bad line${summary.total === 1 ? '' : 's'} (${first}${summary.total > max ? '; …' : ''})`;
}
