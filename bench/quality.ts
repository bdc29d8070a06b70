/**
 * npm run bench:quality — model quality on real purchase data.
 *
 * Data sets (bench/real-datasets.ts): the seed data (data/seed), the UCI
 * Online Retail conversion (data/online-retail; QUALITY_SECOND_DATASET
 * replaces it) and a third one nothing was tuned on (QUALITY_THIRD_DATASET;
 * skipped, saying why, when absent). For each: one leave-one-out split
 * (every eligible customer, seed 42), then HR@10 / NDCG@10 with 95 %
 * bootstrap intervals over customers for popularity, the seed recipe
 * (compatibility mode, 3 epochs), plain EASE over a λ grid (the anchor: the
 * best λ ON THIS SPLIT, optimistic for EASE), RP3β, the default with its
 * knobs fixed at the old constants, and the default model — its knobs chosen
 * on a validation split of the training part, scored THROUGH ITS EXPORTED
 * SAVEDMODEL loaded by TensorFlow's loader — and the paired difference
 * default − anchor with its interval. "retrain s" is the default model's
 * training (selection included) + evaluation + export wall time.
 * Then the next-basket protocol (bench/next-basket.ts) on the same file.
 * Flags: --skip-seed-recipe, --only seed|second|third, --next-basket-only.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-node';
import { Command, Option } from 'commander';
import { holdOutOnePerUser, trainRecommender, type HoldoutSplit, type PurchaseHistory } from '../src/ml';
import type { DotProductWeights } from '../src/ml/dot-weights';
import { rankHoldout, type HoldoutRanks } from '../src/ml/evaluate';
import { trainLinearRecommender, type LinearOptionsInput, type TrainedLinearRecommender } from '../src/ml/linear/linear-recommender';
import { describeSelection, type LinearSelection } from '../src/ml/linear/selection';
import { SavedModelScorer } from '../src/ml/saved-model-scorer';
import { CatalogueScorer } from '../src/ml/network/scoring';
import { exportSavedModel } from '../src/savedmodel';
import { formatInterval, meanInterval, rankingIntervals, type RankingIntervals } from './bootstrap';
import {
  evaluateNextBasket,
  contextAtNow,
  nextBasketSplit,
  personalFrequencyScores,
  popularityScores,
  type NextBasketResult,
  type NextBasketScores,
  type NextBasketSplit,
} from './next-basket';
import { loadHistory, realDatasets, type RealDataset } from './real-datasets';

interface Row {
  model: string;
  anchor?: boolean;
  ranks: Int32Array;
  seconds: number | null;
  note?: string;
}

const ALL = 1 << 30;
const SPLIT_SEED = 42;

const newRanks = (split: HoldoutSplit): HoldoutRanks => ({
  model: new Int32Array(split.users.length),
  popularity: new Int32Array(split.users.length),
});

/** Scores of the dot-product tables in memory: U[users] · Vᵀ. */
function tableScorer(w: DotProductWeights): { score: (users: Int32Array) => Float32Array; dispose: () => void } {
  const products = tf.tensor2d(w.productFactors, [w.productRows, w.dim]);
  return {
    score: (users) => {
      const rows = new Float32Array(users.length * w.dim);
      users.forEach((u, i) => rows.set(w.userFactors.subarray(u * w.dim, (u + 1) * w.dim), i * w.dim));
      const s = tf.tidy(() => tf.matMul(tf.tensor2d(rows, [users.length, w.dim]), products, false, true));
      try {
        return s.dataSync() as Float32Array;
      } finally {
        s.dispose();
      }
    },
    dispose: () => products.dispose(),
  };
}

async function linearRanks(trained: TrainedLinearRecommender): Promise<HoldoutRanks> {
  const ranks = newRanks(trained.split!);
  const scorer = tableScorer(trained.weights);
  try {
    await rankHoldout(trained.split!, scorer.score, {}, undefined, ranks);
  } finally {
    scorer.dispose();
  }
  return ranks;
}

/** The row the targets are about. */
const DEFAULT_ROW = 'default (linear, selected per retrain) via SavedModel';

/** The default's tables with the purchase-time context at "now" (an experiment, bench/next-basket.ts), on the same split. */
async function atNowRow(trained: TrainedLinearRecommender): Promise<Row> {
  const ranks = await linearRanks({ ...trained, weights: contextAtNow(trained.weights, trained.weights.productRows) });
  return { model: 'experiment: default, context at "now" in the served rows', ranks: ranks.model, seconds: null };
}

async function linearRow(
  name: string,
  history: PurchaseHistory,
  options: LinearOptionsInput,
): Promise<{ row: Row; popularity: Int32Array }> {
  const t = performance.now();
  const r = await trainLinearRecommender(history, { ...options, maxEvalUsers: ALL });
  const seconds = (performance.now() - t) / 1000;
  const ranks = await linearRanks(r);
  return { row: { model: name, ranks: ranks.model, seconds }, popularity: ranks.popularity };
}

async function defaultViaSavedModel(history: PurchaseHistory): Promise<{ row: Row; trained: TrainedLinearRecommender }> {
  const t = performance.now();
  const trained = await trainLinearRecommender(history, { maxEvalUsers: ALL });
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bench-quality-'));
  try {
    await exportSavedModel(trained.weights, path.join(dir, 'model'));
    const retrain = (performance.now() - t) / 1000;
    const scorer = await SavedModelScorer.load(path.join(dir, 'model'), history.productRows);
    try {
      // the dot graph gathers a dim-wide user row per (customer, product) pair: bound pairs × dim per call (~128 MB)
      const usersPerCall = Math.max(1, Math.floor((32 * 1024 * 1024) / (history.productRows * trained.weights.dim)));
      const ranks = newRanks(trained.split!);
      await rankHoldout(trained.split!, (users) => scorer.score(users), {}, usersPerCall, ranks);
      const inMemory = trained.metrics.evaluation!;
      const note = `retrain = train (selection included) + eval + export; in-memory HR@10 ${inMemory.hr10.toFixed(4)}`;
      return {
        row: { model: DEFAULT_ROW, ranks: ranks.model, seconds: retrain, note },
        trained,
      };
    } finally {
      scorer.dispose();
    }
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

async function seedRecipeRow(history: PurchaseHistory): Promise<Row | undefined> {
  const t = performance.now();
  const seed = await trainRecommender(history, { mode: 'seed', maxEvalUsers: ALL, seed: SPLIT_SEED });
  const seconds = (performance.now() - t) / 1000;
  try {
    if (!seed.metrics.evaluated) return undefined;
    const split = holdOutOnePerUser(history, ALL, SPLIT_SEED); // the split trainRecommender held out (same seed)
    const scorer = new CatalogueScorer(seed.model);
    const ranks = newRanks(split);
    try {
      await rankHoldout(split, (users) => scorer.score(users), {}, scorer.usersPerChunk, ranks);
    } finally {
      scorer.dispose();
    }
    return { model: 'seed recipe (3 epochs)', ranks: ranks.model, seconds };
  } finally {
    seed.dispose();
  }
}

const cell = (i: RankingIntervals) => `${formatInterval(i.hr10)} | ${formatInterval(i.ndcg10)}`;

function printTable(dataset: RealDataset, history: PurchaseHistory, rows: Row[], selection: LinearSelection | undefined): void {
  const anchor = rows.find((r) => r.anchor)!;
  const def = rows.find((r) => r.model === DEFAULT_ROW)!;
  console.log(
    `\n## ${dataset.name}: ${history.stats.customers} customers, ${history.productRows} products, ${def.ranks.length} evaluated (held-out protocol)\n`,
  );
  console.log('| model | HR@10 [95 % CI] | NDCG@10 [95 % CI] | seconds |');
  console.log('| --- | --- | --- | --- |');
  for (const r of rows)
    console.log(`| ${r.model} | ${cell(rankingIntervals(r.ranks))} | ${r.seconds === null ? '—' : r.seconds.toFixed(2)} |`);
  const a = rankingIntervals(anchor.ranks);
  const d = rankingIntervals(def.ranks);
  const diff = rankingIntervals(def.ranks, anchor.ranks);
  console.log(`\nselection: ${selection ? describeSelection(selection) : 'none'}`);
  console.log(
    `default − EASE anchor (paired, same customers): HR@10 ${formatInterval(diff.hr10)}, NDCG@10 ${formatInterval(diff.ndcg10)}; ` +
      `ratio HR@10 ×${(d.hr10.value / a.hr10.value).toFixed(3)}, NDCG@10 ×${(d.ndcg10.value / a.ndcg10.value).toFixed(3)}; ${def.note ?? ''}`,
  );
  const met = (ok: boolean) => (ok ? 'met' : 'NOT met');
  const targets = [
    `HR@10 ≥ EASE anchor ${met(d.hr10.value >= a.hr10.value)}`,
    `paired lower bound ≥ −0.005 ${met(diff.hr10.low >= -0.005)}`,
    ...(dataset.seed
      ? [`HR@10 ≥ 1.05× anchor ${met(d.hr10.value >= 1.05 * a.hr10.value)}`, `retrain ≤ 2 s ${met(def.seconds! <= 2)}`]
      : []),
  ];
  console.log(`targets: ${targets.join(', ')}`);
}

/** Adds β × the customer's own count (or 1, binary) to each bought product's score: bought products first. */
function boughtFirst(
  train: PurchaseHistory,
  score: (users: Int32Array) => Float32Array,
  by: 'score' | 'count',
): (users: Int32Array) => Float32Array {
  const P = train.productRows;
  return (users) => {
    const out = score(users);
    users.forEach((u, i) => {
      for (let k = train.userOffsets[u]; k < train.userOffsets[u + 1]; k++)
        out[i * P + train.products[k]] += 1e3 * (by === 'count' ? train.counts[k] : 1);
    });
    return out;
  };
}

async function nextBasket(dataset: RealDataset): Promise<void> {
  const split: NextBasketSplit = await nextBasketSplit(dataset.file);
  const rows: [string, NextBasketResult][] = [];
  rows.push(['popularity', evaluateNextBasket(split, popularityScores(split.train))]);
  rows.push(['P-TopFreq (personal counts, popularity after)', evaluateNextBasket(split, personalFrequencyScores(split.train))]);
  const withTables = async (options: LinearOptionsInput, named: [string, 'score' | 'count' | undefined][], atNow = false) => {
    const trained = await trainLinearRecommender(split.train, { ...options, holdout: false });
    const scorer = tableScorer(atNow ? contextAtNow(trained.weights, split.train.productRows) : trained.weights);
    try {
      for (const [name, wrap] of named)
        rows.push([name, evaluateNextBasket(split, wrap ? boughtFirst(split.train, scorer.score, wrap) : scorer.score)]);
    } finally {
      scorer.dispose();
    }
  };
  await withTables({ variant: 'ease', lambda: 500 }, [
    ['EASE λ 500 (all products ranked)', undefined],
    ['EASE λ 500, bought products first by own count', 'count'],
  ]);
  await withTables({}, [
    ['default (selected per retrain, repeat boost included; served tables)', undefined],
    ['default, bought products first by own count (not servable as is)', 'count'],
  ]);
  // experiments beside it (docs/ml.md, "Purchase-time context at serving time"): not served
  await withTables({ time: { bins: 0 } }, [['experiment: default without the purchase-time context', undefined]]);
  await withTables({}, [['experiment: default, context at "now" in the served rows', undefined]], true);
  const f = (x: { customers: number; hr10: number; ndcg10: number }) => `${x.hr10.toFixed(4)} / ${x.ndcg10.toFixed(4)}`;
  const first = rows[0][1];
  console.log(`\n### next basket (each customer's last line held out, ${first.all.customers} customers): HR@10 / NDCG@10\n`);
  console.log(`| model | all | repeat (${first.repeat.customers}) | explore, bought excluded (${first.explore.customers}) |`);
  console.log('| --- | --- | --- | --- |');
  for (const [name, r] of rows) console.log(`| ${name} | ${f(r.all)} | ${f(r.repeat)} | ${f(r.explore)} |`);
  const get = (name: string) => rows.find(([n]) => n.startsWith(name))![1];
  const [d, p, e] = [get('default (selected'), get('P-TopFreq'), get('EASE λ 500')];
  const met = (ok: boolean) => (ok ? 'met' : 'NOT met');
  const paired = (a: NextBasketScores, b: NextBasketScores) => formatInterval(meanInterval(a.hits, b.hits, SPLIT_SEED));
  console.log(
    `default − P-TopFreq (paired, HR@10, 95 % CI): all ${paired(d.all, p.all)}, repeat ${paired(d.repeat, p.repeat)}; ` +
      `default − EASE λ 500: all ${paired(d.all, e.all)}, explore ${paired(d.explore, e.explore)}`,
  );
  console.log(
    `targets (default as served): repeat ≥ P-TopFreq ${met(d.repeat.hr10 >= p.repeat.hr10)}, explore ≥ EASE ${met(d.explore.hr10 >= e.explore.hr10)}, ` +
      `all ≥ both ${met(d.all.hr10 >= p.all.hr10 && d.all.hr10 >= e.all.hr10)}`,
  );
}

async function bench(dataset: RealDataset, skipSeedRecipe: boolean): Promise<void> {
  const history = await loadHistory(dataset.file);
  const rows: Row[] = [];
  const easeRows: Row[] = [];
  let popularity: Int32Array | undefined;
  for (const lambda of [10, 30, 100, 200, 500, 1000]) {
    const r = await linearRow(`EASE λ=${lambda}`, history, { variant: 'ease', lambda });
    easeRows.push(r.row);
    popularity ??= r.popularity;
  }
  rows.push({ model: 'popularity', ranks: popularity!, seconds: null });
  if (!skipSeedRecipe) {
    const seed = await seedRecipeRow(history);
    if (seed) rows.push(seed);
  }
  // the anchor is EASE with λ tuned ON THIS SPLIT (the best HR@10 of the grid): the strongest plain EASE, an optimistic anchor
  const hits = (r: Row) => rankingIntervals(r.ranks).hr10.value;
  const tuned = easeRows.reduce((a, b) => (hits(b) > hits(a) ? b : a));
  tuned.model += ' (anchor, best λ)';
  tuned.anchor = true;
  rows.push(...easeRows);
  rows.push((await linearRow('RP3β (α 1, β 0.5)', history, { variant: 'rp3beta' })).row);
  // the knobs fixed at the previous default's constants (λ 1 × mean diagonal, context weight 0.17), without and with the context
  rows.push((await linearRow('fixed knobs, no purchase-time context', history, { select: false, time: { bins: 0 } })).row);
  rows.push((await linearRow('fixed knobs (previous default)', history, { select: false })).row);
  const def = await defaultViaSavedModel(history);
  rows.push(def.row);
  rows.push(await atNowRow(def.trained));
  printTable(dataset, history, rows, def.trained.metrics.selection);
  await nextBasket(dataset);
}

async function main(): Promise<void> {
  const cli = new Command('bench:quality')
    .option('--skip-seed-recipe', 'leave out the seed recipe (slow, and far below everything else)')
    .option('--next-basket-only', 'only the next-basket protocol')
    .addOption(new Option('--only <dataset>', 'only one of the real data sets').choices(['seed', 'second', 'third']))
    .parse();
  const { skipSeedRecipe, only, nextBasketOnly } = cli.opts<{
    skipSeedRecipe?: boolean;
    only?: 'seed' | 'second' | 'third';
    nextBasketOnly?: boolean;
  }>();
  for (const d of realDatasets()) {
    if (only && only !== d.role) continue;
    if ('missing' in d) console.log(`\n${d.missing}`);
    else if (nextBasketOnly) await nextBasket(d);
    else await bench(d, skipSeedRecipe ?? false);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
