/**
 * The demo's online part (issue 23): the online evaluator beside the
 * workers, and at the end its figures per version — against both shadows
 * on the same requests — beside each deployed model's offline HR@10.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { wilson, type Figures } from '../../evaluation/figures';
import { versionLabel } from '../../evaluation/records';
import { spawnEntry, waitForLog, type Managed } from '../../process/children';
import { onlineFigures, type OnlineStore } from '../../store/online-figures';
import type { FollowedRun } from './follow-schedule';

/** The online evaluator, as the workers: a child logging beside them (any free port: the user's may hold the default). */
export function spawnEvaluator(env: NodeJS.ProcessEnv, logDir: string, exitWithParent: boolean): Managed {
  return spawnEntry('online-evaluator', 'src/evaluation/main.ts', ['--port', '0'], logDir, { env, exitWithParent });
}

export const evaluatorUp = (evaluator: Managed): Promise<void> => waitForLog(evaluator, /online evaluator started/, 120_000);

const followedIn = (f: Figures) => Object.values(f).reduce((sum, v) => sum + v.followed, 0);

/**
 * The figures once the evaluator has caught up: the same followed count in
 * three reads a checkpoint interval apart (or what there is after `timeoutMs`).
 */
export async function settledFigures(store: OnlineStore, everyMs: number, timeoutMs: number): Promise<Figures> {
  const end = Date.now() + timeoutMs;
  let figures = await onlineFigures(store);
  let same = 0;
  while (same < 2 && Date.now() < end) {
    await sleep(everyMs);
    const next = await onlineFigures(store);
    same = followedIn(next) === followedIn(figures) ? same + 1 : 0;
    figures = next;
  }
  return figures;
}

const pct = (x: number) => `${(x * 100).toFixed(1)} %`;

/** One line per deployed version: its offline HR@10 (held-out split) beside its online one and popularity's on the same requests. */
export function offlineBesideOnline(runs: FollowedRun[], figures: Figures): string[] {
  return runs.flatMap((r) => {
    const res = r.result;
    if (res?.outcome !== 'deployed' || res.version === undefined || !res.metrics) return [];
    const f = figures[versionLabel(res.slot ?? null, res.version)];
    const online = f && wilson(f.hits, f.followed);
    const pop = f?.shadows.popularity;
    const shadow = pop?.paired ? `, popularity's shadow ${pct(pop.shadowHits / pop.paired)} on the same ${pop.paired} purchases` : '';
    return [
      `  version ${res.version} (${res.slot}): offline HR@10 ${pct(res.metrics.hitRate10)} (held-out split, popularity ${pct(res.metrics.popularityHitRate10)})` +
        ` · online HR@10 ${online ? `${pct(online.estimate)} [${pct(online.low)}, ${pct(online.high)}] over ${f.followed} purchases${shadow}` : '– (no purchase followed its answers yet)'}`,
    ];
  });
}

/** Issue 23's target: every deployed version's online HR@10 above popularity's shadow on the same requests. */
export function popularityTarget(runs: FollowedRun[], figures: Figures): string {
  const versions = runs.flatMap((r) =>
    r.result?.outcome === 'deployed' ? [versionLabel(r.result.slot ?? null, r.result.version ?? null)] : [],
  );
  const measured = versions.map((v) => figures[v]).filter((f) => f && f.shadows.popularity.paired > 0);
  const above = measured.filter((f) => f.shadows.popularity.modelHits > f.shadows.popularity.shadowHits);
  const verdict = measured.length > 0 && above.length === measured.length ? 'met' : 'NOT met';
  return `target (online HR@10 above popularity's shadow on the same requests): ${verdict} for ${above.length} of ${measured.length} deployed versions with paired purchases`;
}
