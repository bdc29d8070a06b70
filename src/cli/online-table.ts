/**
 * The online figures as text (`recommender online`, the demo's summary):
 * one block per version, plain characters only so that it reads the same in
 * a terminal and in a log file.
 */
import { uplift, wilson, type Figures, type HitCount, type Interval, type VersionFigures } from '../evaluation/figures';

const count = (n: number) => n.toLocaleString('en-US');
const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
const points = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}`;
const rate = (i: Interval | undefined) => (i ? pct(i.estimate) : '–');
const range = (i: Interval | undefined) => (i ? `[${pct(i.low)}, ${pct(i.high)}]` : '');
const upliftText = (i: Interval | undefined) =>
  i ? `${points(i.estimate)} pts [${points(i.low)}, ${Number.isFinite(i.high) ? points(i.high) : '∞'}]` : '';

function row(cells: string[], widths: number[]): string {
  return cells
    .map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i])))
    .join('  ')
    .trimEnd();
}

function versionBlock(label: string, f: VersionFigures): string[] {
  const rows: string[][] = [['', 'purchases', 'HR@10', '95 % interval', 'model on the same', 'uplift of the model, 95 %']];
  rows.push(['model', count(f.followed), rate(wilson(f.hits, f.followed)), range(wilson(f.hits, f.followed)), '', '']);
  const shadows: [string, keyof VersionFigures['shadows']][] = [
    ['popularity', 'popularity'],
    ['previous model', 'previous-model'],
  ];
  for (const [name, kind] of shadows) {
    const s = f.shadows[kind];
    const own = wilson(s.shadowHits, s.paired);
    rows.push([name, count(s.paired), rate(own), range(own), rate(wilson(s.modelHits, s.paired)), upliftText(uplift(s))]);
  }
  const hitRow = (name: string, h: HitCount) => [
    name,
    count(h.followed),
    rate(wilson(h.hits, h.followed)),
    range(wilson(h.hits, h.followed)),
    '',
    '',
  ];
  rows.push(hitRow('  repeat products', f.repeat), hitRow('  new products', f.explore));
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const head = `version ${label}: ${count(f.requests)} requests, ${count(f.followed)} followed by a purchase`;
  return [head, ...rows.map((r) => `  ${row(r, widths)}`)];
}

/** Every version's block, by slot then version. */
export function onlineTable(figures: Figures): string {
  const labels = Object.keys(figures).sort((a, b) => {
    const fa = figures[a];
    const fb = figures[b];
    return (fa.version ?? 0) - (fb.version ?? 0) || a.localeCompare(b);
  });
  if (labels.length === 0) return 'no online figures yet (is the evaluator running? `npm run evaluator`)';
  // answers given before any model (the popularity fallback) carry no slot
  const shown = (l: string) => (figures[l].slot === null ? 'none (before the first model: popularity)' : l);
  return labels.map((l) => versionBlock(shown(l), figures[l]).join('\n')).join('\n\n');
}
