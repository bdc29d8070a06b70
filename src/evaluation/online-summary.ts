/**
 * A version's online figures as the retrain workflow carries them: a few
 * numbers (history holds metrics, never bulk data), intervals computed here
 * once so the workflow stays arithmetic-free.
 */
import { uplift, wilson, type Interval, type ShadowFigures, type VersionFigures } from './figures';

export interface ShadowSummary {
  /** followed purchases whose request has this shadow's answer */
  paired: number;
  /** the shadow's HR@10 on them */
  hr10: number | null;
  /** the served model's HR@10 minus the shadow's on the same purchases, 95 % interval */
  uplift: Interval | null;
}

export interface OnlineSummary {
  slot: string | null;
  version: number | null;
  requests: number;
  followed: number;
  hits: number;
  /** online HR@10 with Wilson's 95 % interval; null before any followed purchase */
  hr10: Interval | null;
  popularity: ShadowSummary;
  previousModel: ShadowSummary;
}

function shadowSummary(s: ShadowFigures): ShadowSummary {
  return { paired: s.paired, hr10: s.paired ? s.shadowHits / s.paired : null, uplift: uplift(s) ?? null };
}

export function summariseOnline(f: VersionFigures): OnlineSummary {
  return {
    slot: f.slot,
    version: f.version,
    requests: f.requests,
    followed: f.followed,
    hits: f.hits,
    hr10: wilson(f.hits, f.followed) ?? null,
    popularity: shadowSummary(f.shadows.popularity),
    previousModel: shadowSummary(f.shadows['previous-model']),
  };
}
