/**
 * npm run bench:tune — the tuning protocol of docs/ml.md ("Tuning protocol"),
 * runnable: hyperparameters of the default linear model are judged on a
 * VALIDATION split carved from the benchmark split's training part, never
 * on the benchmark split itself. holdOutOnePerUser(full, all, 42) is the
 * benchmark split (what bench:quality scores); on its `train`, the model's
 * own holdout with seed 4242 holds out one more distinct product per
 * customer, and each candidate is trained on the rest and ranked on those.
 *
 *   npm run bench:tune                         # both real data sets
 *   npm run bench:tune -- --only seed          # or: --only second
 */
import { Command, Option } from 'commander';
import { holdOutOnePerUser } from '../src/ml';
import { trainLinearRecommender, type LinearOptionsInput } from '../src/ml/linear/linear-recommender';
import { loadHistory, SEED_DATASET, secondDataset, type RealDataset } from './real-datasets';

const ALL = 1 << 30;
const BENCHMARK_SEED = 42;
const VALIDATION_SEED = 4242;

/**
 * The default (its knobs chosen per retrain, src/ml/linear/selection.ts), the fixed knobs it replaced, then one
 * change at a time around those (select: false, so the change is not overridden), then the plain-EASE anchors.
 */
const CANDIDATES: [string, LinearOptionsInput][] = [
  ['default (knobs selected per retrain on its own validation split)', {}],
  ['fixed knobs (λ 1 × mean diag, n_u^-0.25, time 50 bins / bw 2 / weight 0.17)', { select: false }],
  ['fixed knobs without purchase-time context', { select: false, time: { bins: 0 } }],
  ['time weight 0.085', { select: false, time: { weight: 0.085 } }],
  ['time weight 0.34', { select: false, time: { weight: 0.34 } }],
  ['time bins 25', { select: false, time: { bins: 25 } }],
  ['time bins 100', { select: false, time: { bins: 100, bandwidth: 4 } }],
  ['lambdaScale 0.5', { select: false, lambdaScale: 0.5 }],
  ['lambdaScale 2', { select: false, lambdaScale: 2 }],
  ['userExponent 0', { select: false, userExponent: 0 }],
  ['userExponent 0.5', { select: false, userExponent: 0.5 }],
  ['EASE λ 100 (binary rows)', { variant: 'ease', lambda: 100 }],
  ['EASE λ 500 (binary rows)', { variant: 'ease', lambda: 500 }],
];

async function tune(dataset: RealDataset): Promise<void> {
  const full = await loadHistory(dataset.file);
  const benchmark = holdOutOnePerUser(full, ALL, BENCHMARK_SEED);
  console.log(`\n## ${dataset.name}: validation split of the benchmark's training part (seed ${VALIDATION_SEED})\n`);
  console.log('| candidate | HR@10 | NDCG@10 | seconds |');
  console.log('| --- | --- | --- | --- |');
  let popularityShown = false;
  for (const [name, options] of CANDIDATES) {
    const started = performance.now();
    const r = await trainLinearRecommender(benchmark.train, { ...options, seed: VALIDATION_SEED, maxEvalUsers: ALL });
    const seconds = (performance.now() - started) / 1000;
    const e = r.metrics.evaluation!;
    if (!popularityShown) {
      console.log(`| popularity (${e.users} customers) | ${e.popularity.hr10.toFixed(4)} | ${e.popularity.ndcg10.toFixed(4)} | — |`);
      popularityShown = true;
    }
    console.log(`| ${name} | ${e.hr10.toFixed(4)} | ${e.ndcg10.toFixed(4)} | ${seconds.toFixed(1)} |`);
  }
}

async function main(): Promise<void> {
  const cli = new Command('bench:tune')
    .description('judge the default linear model and its neighbours on a validation split (docs/ml.md, "Tuning protocol")')
    .addOption(new Option('--only <dataset>', 'only one of the real data sets').choices(['seed', 'second']))
    .parse();
  const { only } = cli.opts<{ only?: 'seed' | 'second' }>();
  if (only !== 'second') await tune(SEED_DATASET);
  if (only !== 'seed') {
    const second = secondDataset();
    if ('missing' in second) console.log(`\n${second.missing}`);
    else await tune(second);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
