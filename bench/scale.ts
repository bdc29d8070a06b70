/**
 * Scale benchmark: generated purchase history of 1,000,000 customers ×
 * 100,000 products, the linear objective (which switches to its low-rank
 * form past MAX_DENSE_PRODUCTS), evaluated on a sampled leave-one-out
 * holdout against popularity, exported as a SavedModel to a temp dir
 * (deleted afterwards), loaded by TensorFlow's own loader and a sample of
 * the holdout scored through it. Prints peak RSS (VmHWM) against a bound.
 *
 *   tsx bench/scale.ts [--users N] [--products N] [--purchases N] [--rank K]
 *                      [--eval-users N] [--saved-model-users N] [--bound-gib G] [--seed S] [--no-anchor]
 *
 * The anchor: the previous fixed default (select: false) trained on the same
 * history, rank and holdout in the same run; the default / anchor HR@10 ratio
 * is the target (≥ 1.10×).
 *
 * Run the full size with `nice -n 10`: it keeps both cores busy for minutes.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { generatePurchaseHistoryInMemory } from '../src/ml/generate';
import { rankHoldout } from '../src/ml/evaluate';
import type { HoldoutSplit } from '../src/ml/holdout';
import type { PurchaseHistory } from '../src/ml/dataset/purchase-history';
import { trainLinearRecommender } from '../src/ml/linear/linear-recommender';
import { trainLowRankRecommender } from '../src/ml/lowrank/lowrank-recommender';
import { describeLowRankSelection } from '../src/ml/lowrank/lowrank-selection';
import { SavedModelScorer } from '../src/ml/saved-model-scorer';
import { exportSavedModel } from '../src/savedmodel/export';

const { values: args } = parseArgs({
  options: {
    users: { type: 'string', default: '1000000' },
    products: { type: 'string', default: '100000' },
    /** mean purchases per customer (repeats included): 25 → ~25M purchases at 1M customers */
    purchases: { type: 'string', default: '25' },
    rank: { type: 'string', default: '64' },
    'eval-users': { type: 'string', default: '10000' },
    'saved-model-users': { type: 'string', default: '1000' },
    /** the memory bound this benchmark holds itself to: half the 24 GiB machine, which others share */
    'bound-gib': { type: 'string', default: '12' },
    seed: { type: 'string', default: '7' },
    /** skip the previous default's run (the target's anchor, same data and holdout) */
    'no-anchor': { type: 'boolean', default: false },
  },
});

/** Peak resident set size of this process (VmHWM), in bytes. */
function peakRss(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

const gib = (bytes: number): string => (bytes / 2 ** 30).toFixed(2);
const secs = (ms: number): string => (ms / 1000).toFixed(1);
const pct = (x: number): string => x.toFixed(4);

async function main(): Promise<void> {
  const users = Number(args.users);
  const products = Number(args.products);
  const bound = Number(args['bound-gib']) * 2 ** 30;
  console.log(
    `scale: ${users.toLocaleString('en')} customers × ${products.toLocaleString('en')} products, bound ${args['bound-gib']} GiB RSS`,
  );

  let t = performance.now();
  const history = generatePurchaseHistoryInMemory({
    users,
    products,
    meanPurchasesPerUser: Number(args.purchases),
    seed: Number(args.seed),
  });
  console.log(
    `generated in ${secs(performance.now() - t)} s: ${history.stats.purchases.toLocaleString('en')} purchases, ` +
      `${history.stats.pairs.toLocaleString('en')} distinct pairs, ${history.stats.transactions.toLocaleString('en')} baskets ` +
      `(peak RSS so far ${gib(peakRss())} GiB)`,
  );

  t = performance.now();
  const trained = await trainLinearRecommender(history, { maxEvalUsers: Number(args['eval-users']), rank: Number(args.rank) });
  const totalSeconds = (performance.now() - t) / 1000;
  const m = trained.metrics;
  const e = m.evaluation;
  if (!e || !trained.split) throw new Error(`not evaluated: ${m.notEvaluatedReason}`);
  console.log(
    `trained: form ${m.form}, k ${trained.weights.dim}, train ${m.training.seconds.toFixed(1)} s ` +
      `(eigen ${m.lowRank?.training.eigenSeconds.toFixed(1)} s, user table ${m.lowRank?.training.tableSeconds.toFixed(1)} s), ` +
      `evaluation ${(totalSeconds - m.training.seconds).toFixed(1)} s on ${e.users.toLocaleString('en')} sampled customers`,
  );
  console.log(
    `holdout (in memory): HR@10 ${pct(e.hr10)} NDCG@10 ${pct(e.ndcg10)} | popularity HR@10 ${pct(e.popularity.hr10)} NDCG@10 ${pct(e.popularity.ndcg10)} ` +
      `→ ${(e.hr10 / Math.max(1e-9, e.popularity.hr10)).toFixed(2)}× popularity`,
  );

  if (m.lowRank?.selection) console.log(`penalty chosen per retrain: ${describeLowRankSelection(m.lowRank.selection)}`);
  if (!args['no-anchor']) await previousDefaultAnchor(history, e.hr10);

  const work = await mkdtemp(path.join(tmpdir(), 'bench-scale-'));
  try {
    const dir = path.join(work, 'model');
    t = performance.now();
    const manifest = await exportSavedModel(trained.weights, dir);
    console.log(`export: ${secs(performance.now() - t)} s, ${(manifest.totalBytes / 1e6).toFixed(0)} MB`);

    t = performance.now();
    const scorer = await SavedModelScorer.load(dir, history.productRows);
    try {
      const n = Math.min(Number(args['saved-model-users']), trained.split.users.length);
      const sample: HoldoutSplit = {
        ...trained.split,
        users: trained.split.users.subarray(0, n),
        products: trained.split.products.subarray(0, n),
      };
      // one predict call carries users × products pairs; keep each call near 400k pairs
      const perCall = Math.max(1, Math.floor(400_000 / history.productRows));
      const s = await rankHoldout(sample, (u) => scorer.score(u), {}, perCall);
      console.log(
        `holdout through the SavedModel (TensorFlow loader, first ${n.toLocaleString('en')} sampled customers, ${secs(performance.now() - t)} s): ` +
          `HR@10 ${pct(s.hr10)} NDCG@10 ${pct(s.ndcg10)} | popularity HR@10 ${pct(s.popularity.hr10)} NDCG@10 ${pct(s.popularity.ndcg10)}`,
      );
    } finally {
      scorer.dispose();
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  const peak = peakRss();
  console.log(`peak RSS (VmHWM): ${gib(peak)} GiB — ${peak <= bound ? 'within' : 'EXCEEDS'} the ${args['bound-gib']} GiB bound`);
  if (peak > bound) process.exitCode = 1;
}

/**
 * The anchor of the target, in the same run: the previous fixed default (λI on the rank-k part,
 * λ 4 × s²_k, no per-retrain choice) on the same history, rank and holdout (same seed).
 */
async function previousDefaultAnchor(history: PurchaseHistory, hr10: number): Promise<void> {
  const t = performance.now();
  const anchor = await trainLowRankRecommender(history, {
    rank: Number(args.rank),
    maxEvalUsers: Number(args['eval-users']),
    select: false,
  });
  const a = anchor.metrics.evaluation!;
  console.log(
    `anchor, the previous default (select: false; ${secs(performance.now() - t)} s): HR@10 ${pct(a.hr10)} NDCG@10 ${pct(a.ndcg10)} ` +
      `→ default/anchor ${(hr10 / Math.max(1e-9, a.hr10)).toFixed(3)}× (target ≥ 1.10×: ${hr10 >= 1.1 * a.hr10 ? 'met' : 'NOT met'})`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
