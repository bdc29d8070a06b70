/**
 * What a retention run does: its options with the defaults applied, the
 * one-line description the schedule, the activity call and the CLI show,
 * and the run's current details (Markdown) before and after the pruning.
 * Pure functions, safe in the workflow sandbox.
 */
import type { RetentionInput, RetentionOptions, RetentionReport } from './types';

export const RETENTION_DEFAULTS = {
  keepVersions: 3,
  candidatesOlderThanHours: 24,
  stagingOlderThanHours: 24,
  segmentsOlderThanHours: 168,
} as const;

export function resolveRetentionOptions(input: RetentionInput): Required<RetentionOptions> {
  const keepVersions = input.keepVersions ?? RETENTION_DEFAULTS.keepVersions;
  return {
    keepVersions,
    keepLineage: input.keepLineage ?? keepVersions,
    candidatesOlderThanHours: input.candidatesOlderThanHours ?? RETENTION_DEFAULTS.candidatesOlderThanHours,
    stagingOlderThanHours: input.stagingOlderThanHours ?? RETENTION_DEFAULTS.stagingOlderThanHours,
    segmentsOlderThanHours: input.segmentsOlderThanHours ?? RETENTION_DEFAULTS.segmentsOlderThanHours,
    dryRun: input.dryRun ?? false,
  };
}

const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;

/** "keep 3 versions and 3 lineage records per slot, candidates up to 24 h, staging up to 24 h" */
export function describeRetention(o: Required<RetentionOptions>): string {
  return (
    `${o.dryRun ? 'dry run: ' : ''}keep ${plural(o.keepVersions, 'version')} and ${plural(o.keepLineage, 'lineage record')} per slot ` +
    `(besides the active and standby ones), candidates up to ${o.candidatesOlderThanHours} h, staging up to ${o.stagingOlderThanHours} h`
  );
}

const mb = (bytes: number | undefined) => `${((bytes ?? 0) / 1e6).toFixed(1)} MB`;
const list = (xs: readonly (number | string)[] | undefined) => (xs?.length ? xs.join(', ') : '–');

export function renderRetentionDetails(o: Required<RetentionOptions>, report?: RetentionReport): string {
  const lines = [
    report ? `### Done: **${report.skipped ? 'skipped' : o.dryRun ? 'dry run' : 'pruned'}**` : '### Step: **Pruning the model store**',
  ];
  lines.push('', describeRetention(o));
  if (!report) return lines.join('\n');
  if (report.skipped) {
    lines.push('', `A deployment holds the deploy lock (${report.heldBy}); nothing was touched. The next run tries again.`);
    return lines.join('\n');
  }
  const verb = o.dryRun ? 'would remove' : 'removed';
  lines.push('', `| slot | kept versions | ${verb}: versions | lineage | staging | size |`, '| --- | --- | --- | --- | --- | --- |');
  for (const s of report.slots) {
    lines.push(
      `| \`${s.slot}\` | ${list(s.keptVersions)} | ${list(s.removedVersions)} | ${list(s.removedLineage)} | ${s.removedStaging.length} | ${mb(s.removedBytes)} |`,
    );
  }
  const g = report.segments;
  if (g)
    lines.push(
      '',
      `**Ingested segments** (folded into a compacted history): ${verb} ${g.removed} (${mb(g.removedBytes)}); kept ${g.kept} young`,
    );
  const c = report.candidates;
  if (c) {
    lines.push(
      '',
      `**Candidates:** ${verb} ${c.removed} (${mb(c.removedBytes)}); kept ${c.keptYoung} young, ${c.keptInUse} of running runs`,
    );
  }
  return lines.join('\n');
}
