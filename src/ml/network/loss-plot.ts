import type { EpochLoss } from './train';

const WIDTH = 480;
const HEIGHT = 300;
const MARGIN = { left: 56, right: 16, top: 28, bottom: 40 };

/**
 * A small self-contained SVG line chart of training and validation loss per
 * epoch, to store next to a model (viewable in a browser or the MinIO
 * console). Hand-written so the ML core needs no charting dependency.
 */
export function renderLossPlot(history: readonly EpochLoss[], title = 'Loss per epoch'): string {
  const values = history.flatMap((h) => (h.valLoss === null ? [h.loss] : [h.loss, h.valLoss])).filter(Number.isFinite);
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const lines: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="11">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`,
    `<text x="${WIDTH / 2}" y="18" text-anchor="middle" font-size="13">${escapeXml(title)}</text>`,
  ];
  if (values.length === 0) {
    lines.push(`<text x="${WIDTH / 2}" y="${HEIGHT / 2}" text-anchor="middle">no completed epochs</text>`, '</svg>');
    return lines.join('\n');
  }

  let lo = Math.min(...values);
  let hi = Math.max(...values);
  if (hi - lo < 1e-12) {
    lo -= 0.5 * Math.abs(lo || 1);
    hi += 0.5 * Math.abs(hi || 1);
  }
  const pad = (hi - lo) * 0.05;
  lo -= pad;
  hi += pad;
  const firstEpoch = history[0].epoch;
  const lastEpoch = history[history.length - 1].epoch;
  const span = Math.max(1, lastEpoch - firstEpoch);
  const x = (epoch: number): number => MARGIN.left + (history.length === 1 ? plotW / 2 : ((epoch - firstEpoch) / span) * plotW);
  const y = (v: number): number => MARGIN.top + (1 - (v - lo) / (hi - lo)) * plotH;

  // Axes, y ticks and x ticks.
  lines.push(
    `<line x1="${MARGIN.left}" y1="${MARGIN.top}" x2="${MARGIN.left}" y2="${MARGIN.top + plotH}" stroke="#333"/>`,
    `<line x1="${MARGIN.left}" y1="${MARGIN.top + plotH}" x2="${MARGIN.left + plotW}" y2="${MARGIN.top + plotH}" stroke="#333"/>`,
  );
  for (let i = 0; i <= 4; i++) {
    const v = lo + ((hi - lo) * i) / 4;
    const yy = fmt(y(v));
    lines.push(
      `<line x1="${MARGIN.left - 4}" y1="${yy}" x2="${MARGIN.left + plotW}" y2="${yy}" stroke="#ddd"/>`,
      `<text x="${MARGIN.left - 6}" y="${yy}" text-anchor="end" dominant-baseline="middle">${v.toPrecision(3)}</text>`,
    );
  }
  const tickEvery = Math.max(1, Math.ceil(history.length / 10));
  history.forEach((h, i) => {
    if (i % tickEvery !== 0 && i !== history.length - 1) return;
    lines.push(`<text x="${fmt(x(h.epoch))}" y="${MARGIN.top + plotH + 16}" text-anchor="middle">${h.epoch}</text>`);
  });
  lines.push(`<text x="${MARGIN.left + plotW / 2}" y="${HEIGHT - 6}" text-anchor="middle">epoch</text>`);

  const series = (pick: (h: EpochLoss) => number | null, color: string, label: string, legendY: number): void => {
    const points = history
      .filter((h) => pick(h) !== null && Number.isFinite(pick(h) as number))
      .map((h) => [x(h.epoch), y(pick(h) as number)]);
    if (points.length === 0) return;
    lines.push(
      `<polyline fill="none" stroke="${color}" stroke-width="2" points="${points.map(([a, b]) => `${fmt(a)},${fmt(b)}`).join(' ')}"/>`,
    );
    for (const [a, b] of points) lines.push(`<circle cx="${fmt(a)}" cy="${fmt(b)}" r="3" fill="${color}"/>`);
    const lx = MARGIN.left + plotW - 110;
    lines.push(
      `<line x1="${lx}" y1="${legendY}" x2="${lx + 18}" y2="${legendY}" stroke="${color}" stroke-width="2"/>`,
      `<text x="${lx + 24}" y="${legendY}" dominant-baseline="middle">${label}</text>`,
    );
  };
  series((h) => h.loss, '#1f77b4', 'training loss', MARGIN.top + 10);
  series((h) => h.valLoss, '#ff7f0e', 'validation loss', MARGIN.top + 26);
  lines.push('</svg>');
  return lines.join('\n');
}

function fmt(v: number): string {
  return v.toFixed(1);
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] as string);
}
