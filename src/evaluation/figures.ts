/**
 * The online figures per served version (docs/design.md, "Quality out"):
 * plain counts, so that figures of partitions, instances and checkpoints
 * add up, and the intervals are derived from the counts when shown.
 */
import { SHADOW_KINDS, type ShadowKind } from '../messaging/shadow-result';

/** What one shadow would have scored on the purchases attributed to the requests it shadowed. */
export interface ShadowFigures {
  /** served requests of the version with this shadow's answer */
  requests: number;
  /** attributed purchases whose request has this shadow's answer: the pairs */
  paired: number;
  /** on the pairs: the served model's hits, the shadow's hits, and the pairs only one of them hit */
  modelHits: number;
  shadowHits: number;
  modelOnly: number;
  shadowOnly: number;
}

export interface HitCount {
  followed: number;
  hits: number;
}

export interface VersionFigures {
  slot: string | null;
  version: number | null;
  requests: number;
  /** purchases attributed to one of the version's requests */
  followed: number;
  /** of those, the ones with a purchased product in the answer's first 10 */
  hits: number;
  /** purchases with a repeat product (bought before by the customer), and a repeat product in the first 10 */
  repeat: HitCount;
  /** purchases with a new product, and a new product in the first 10 */
  explore: HitCount;
  shadows: Record<ShadowKind, ShadowFigures>;
}

/** Figures by version label (`<slot>/<version>`). */
export type Figures = Record<string, VersionFigures>;

const emptyShadow = (): ShadowFigures => ({ requests: 0, paired: 0, modelHits: 0, shadowHits: 0, modelOnly: 0, shadowOnly: 0 });

export function emptyVersion(slot: string | null, version: number | null): VersionFigures {
  return {
    slot,
    version,
    requests: 0,
    followed: 0,
    hits: 0,
    repeat: { followed: 0, hits: 0 },
    explore: { followed: 0, hits: 0 },
    shadows: { popularity: emptyShadow(), 'previous-model': emptyShadow() },
  };
}

function addShadow(into: ShadowFigures, f: ShadowFigures): void {
  for (const k of Object.keys(into) as (keyof ShadowFigures)[]) into[k] += f[k];
}

/** Adds `more` into `into` (figures of several partitions or instances). */
export function mergeFigures(into: Figures, more: Figures): Figures {
  for (const [label, f] of Object.entries(more)) {
    const t = (into[label] ??= emptyVersion(f.slot, f.version));
    t.requests += f.requests;
    t.followed += f.followed;
    t.hits += f.hits;
    t.repeat.followed += f.repeat.followed;
    t.repeat.hits += f.repeat.hits;
    t.explore.followed += f.explore.followed;
    t.explore.hits += f.explore.hits;
    for (const kind of SHADOW_KINDS) addShadow(t.shadows[kind], f.shadows[kind]);
  }
  return into;
}

export interface Interval {
  estimate: number;
  low: number;
  high: number;
}

const Z95 = 1.959963984540054;

/** Wilson's 95 % score interval of a proportion hits/n (undefined for n = 0). */
export function wilson(hits: number, n: number): Interval | undefined {
  if (n === 0) return undefined;
  const p = hits / n;
  const z2 = Z95 * Z95;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (Z95 / (1 + z2 / n)) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return { estimate: p, low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

/**
 * The served model's HR@10 minus the shadow's on the same pairs, with a 95 %
 * normal interval of the paired difference: per pair d ∈ {−1, 0, 1}, so the
 * mean is (modelOnly − shadowOnly)/n and its variance follows from the
 * discordant pairs alone.
 */
export function uplift(s: ShadowFigures): Interval | undefined {
  const n = s.paired;
  if (n === 0) return undefined;
  const mean = (s.modelOnly - s.shadowOnly) / n;
  const variance = (s.modelOnly + s.shadowOnly) / n - mean * mean;
  const half = n > 1 ? Z95 * Math.sqrt(Math.max(0, variance) / (n - 1)) : Infinity;
  return { estimate: mean, low: mean - half, high: mean + half };
}
