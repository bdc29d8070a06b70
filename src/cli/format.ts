/** Human units for command-line output (durations people read, not parse). */

/** 90_061_000 → "1d 1h 1m 1s"; under a second → "250 ms"; not finite → "unknown". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return 'unknown';
  const units: [number, string][] = [
    [86_400_000, 'd'],
    [3_600_000, 'h'],
    [60_000, 'm'],
    [1000, 's'],
  ];
  const parts: string[] = [];
  let rest = Math.round(ms);
  for (const [size, unit] of units) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  return parts.join(' ') || `${Math.round(ms)} ms`;
}

/**
 * An error for people: Temporal wraps an activity's failure twice
 * ("Workflow execution failed" ← "Activity task failed" ← the reason), so
 * the chain of causes is followed and the wrappers' own words dropped.
 */
export function describeError(error: unknown): string {
  const wrappers = /^(Workflow execution failed|Activity task failed)$/;
  const parts: string[] = [];
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    if (!wrappers.test(e.message) && e.message && !parts.includes(e.message)) parts.push(e.message);
  }
  return parts.join(': ') || String(error);
}
