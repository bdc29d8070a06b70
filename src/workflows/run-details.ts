/**
 * What the web UI shows of a run: one-line summaries of its activity calls
 * and the run's current details (Markdown): the live step, the training
 * progress and, at the end, the metrics table and the gate's decision.
 * Pure functions of the run's status, so the workflow stays deterministic.
 */
import {
  DEFAULT_DATA_MODE,
  type CandidateRef,
  type DataRef,
  type GateDecision,
  type ModelMetrics,
  type RunStatus,
  type Step,
  type RunTrainingOptions,
} from './types';
import type { CandidateMetrics } from './gate';
import type { OnlineSummary } from '../evaluation/online-summary';

const STEP_TITLES: Record<Step, string> = {
  starting: 'Starting',
  'refreshing-data': 'Refreshing the purchase history',
  training: 'Training',
  gating: 'Quality gate',
  exporting: 'Exporting the SavedModel',
  'waiting-for-standby': 'Waiting for the standby slot',
  publishing: 'Publishing the model URL',
  committing: 'Recording the deployment',
  'cleaning-up': 'Cleaning up',
  done: 'Done',
};

// not toLocaleString: the same text on every worker, whatever its locale data
const n = (x: number) => String(x).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
const fixed = (x: number | undefined, digits = 4) => (x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(digits));

export function trainSummary(options: RunTrainingOptions, data: DataRef): string {
  // no objective: the activity trains the linear default (src/activities/train.ts), which has no epochs
  const objective = options.objective ?? 'linear';
  const epochs =
    objective === 'linear'
      ? ''
      : options.epochs === undefined
        ? ', default epochs'
        : `, ${options.epochs} epoch${options.epochs === 1 ? '' : 's'}`;
  return `train ${objective} model${epochs} on ${n(data.purchases)} purchases of ${n(data.customers)} customers`;
}

export function dataSummary(mode: string | undefined): string {
  return `refresh purchase history (${mode ?? DEFAULT_DATA_MODE})`;
}

export function exportSummary(candidate: CandidateRef, slot: string, version: number): string {
  return `export SavedModel version ${version} to standby slot ${slot} (weights ${candidate.digest.slice(0, 12)})`;
}

/**
 * The candidate beside popularity and the active model. The active column is
 * what the gate compares with: the active model scored on the candidate's own
 * held-out split when that was possible, else its stored metrics (its own split),
 * and the header says which.
 */
function metricsTable(m: CandidateMetrics, active: ModelMetrics | undefined): string {
  const row = (name: string, c: number, p: number, a: number | undefined) => `| ${name} | ${fixed(c)} | ${fixed(p)} | ${fixed(a)} |`;
  const same = m.activeOnSameSplit;
  const header = same ? `active v${same.version}, same split` : active ? 'active model, its own split' : 'active model';
  return [
    `| metric | candidate | popularity | ${header} |`,
    '| --- | --- | --- | --- |',
    row('HR@10', m.hitRate10, m.popularityHitRate10, same ? same.hitRate10 : active?.hitRate10),
    row('NDCG@10', m.ndcg10, m.popularityNdcg10, same ? same.ndcg10 : active?.ndcg10),
    `| val loss | ${fixed(m.valLoss)} | | ${same ? '' : fixed(active?.valLoss)} |`,
    '',
    `objective \`${m.objective}\`, ${n(m.evaluatedUsers)} customers evaluated (${m.protocol})`,
    ...(m.selection ? ['', `selection: ${m.selection}`] : []),
  ].join('\n');
}

function progressBar(epoch: number, epochs: number): string {
  const width = 20;
  const done = Math.max(0, Math.min(width, Math.round((epoch / Math.max(1, epochs)) * width)));
  return `\`${'█'.repeat(done)}${'░'.repeat(width - done)}\``;
}

const pctOrNa = (x: number | null | undefined) => (x === null || x === undefined ? 'n/a' : `${(100 * x).toFixed(1)} %`);

/** The active model's online figures, beside the candidate's offline ones (the online evaluator's, docs/design.md "Quality out"). */
export function onlineTable(o: OnlineSummary): string {
  const interval = (i: { low: number; high: number } | null) => (i ? ` (95 % ${pctOrNa(i.low)} … ${pctOrNa(i.high)})` : '');
  const shadow = (name: string, s: OnlineSummary['popularity']) =>
    `| ${name} | ${n(s.paired)} | ${pctOrNa(s.hr10)} | ${s.uplift ? `${pctOrNa(s.uplift.estimate)}${interval(s.uplift)}` : 'n/a'} |`;
  return [
    `**Active model online:** version ${o.version} (slot \`${o.slot}\`): ${n(o.requests)} requests answered, ${n(o.followed)} purchases followed one, ` +
      `online HR@10 ${pctOrNa(o.hr10?.estimate)}${interval(o.hr10)}`,
    '',
    '| shadow on the same requests | followed purchases | its HR@10 | uplift of the active model |',
    '| --- | --- | --- | --- |',
    shadow('popularity', o.popularity),
    shadow('previous model (standby slot)', o.previousModel),
  ].join('\n');
}

function gateLine(gate: GateDecision): string {
  return `**Gate: ${gate.deploy ? 'deploy' : 'reject'}** — ${gate.reason}`;
}

/** The run's current details, Markdown. */
export function renderDetails(status: RunStatus, activeMetrics?: ModelMetrics): string {
  const lines: string[] = [];
  const title = status.step === 'done' && status.outcome ? `Done: **${status.outcome}**` : `Step: **${STEP_TITLES[status.step]}**`;
  lines.push(`### ${title}`);
  if (status.reason) lines.push('', status.reason);
  // the live progress first: the UI sizes its frame when it first renders
  const t = status.training;
  if (t && !status.candidate) {
    const batch = t.batch !== undefined && t.batches ? `, batch ${n(t.batch)} of ${n(t.batches)}` : '';
    lines.push(
      '',
      `**Training:** epoch ${t.epoch} of ${t.epochs}${batch} ${progressBar(t.epoch, t.epochs)} loss ${fixed(t.loss)}, val loss ${fixed(t.valLoss)}`,
    );
  }
  if (status.data) {
    const d = status.data;
    lines.push(
      '',
      `**Data:** \`${d.bucket}/${d.transactionsKey}\` sha256 \`${d.sha256.slice(0, 12)}\`, ${n(d.purchases)} purchases, ${n(d.customers)} customers, ${n(d.products)} products, ${n(d.badLines)} bad lines`,
    );
  }
  if (status.candidate) {
    lines.push(
      '',
      `**Candidate:** trained in ${status.candidate.trainingSeconds.toFixed(1)} s`,
      '',
      metricsTable(status.candidate.metrics, activeMetrics),
    );
  }
  if (status.activeOnline) lines.push('', onlineTable(status.activeOnline));
  if (status.gate) lines.push('', gateLine(status.gate));
  // once deployed, the standby slot is the other one: "Serving" says where the version went
  if (status.version !== undefined && status.standbySlot && status.outcome !== 'deployed') {
    lines.push('', `**Version:** ${status.version} in standby slot \`${status.standbySlot}\``);
  }
  if (status.active) lines.push('', `**Serving:** version ${status.active.version} from slot \`${status.active.slot}\``);
  return lines.join('\n');
}
