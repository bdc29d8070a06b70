/**
 * Training benchmark (npm run bench:train → tsx bench/train.ts).
 *
 * First the seed recipe (mode 'seed': batch 64, 3 epochs) on the seed's real
 * purchase data, trained by tfjs and by Keras (TensorFlow from PyPI, run by
 * bench/keras/seed_recipe.py) on the identical examples in the same run,
 * with the examples/s ratio tfjs / Keras; without Python TensorFlow it says
 * why and prints the tfjs figure alone. Then, for the seed-sized generated
 * data set and one 100× larger (100,000 customers × 3,000 products, ~6M
 * purchases): ingest time (generate + stream-parse), raw training-step
 * throughput in examples/second at batch 64 and at larger batches, epoch
 * time of the implicit objective, peak resident memory, and the held-out
 * metrics against popularity. Runs in a few minutes on two cores.
 */
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-node';
import { Command } from 'commander';
import {
  buildNetwork,
  deriveSeed,
  evaluateHoldout,
  generatePurchaseHistory,
  holdOutOnePerUser,
  implicitExamples,
  NegativeSampler,
  pairUsers,
  Random,
  readPurchases,
  resolveTrainingOptions,
  trainRecommender,
  type ExampleSet,
  type PurchaseHistory,
  type RecommenderMetrics,
  type TrainingOptions,
  type TrainingOptionsInput,
} from '../src/ml';
import { SparseTrainingStep } from '../src/ml/network/sparse-training-step';
import { trainingExamples, trainNetwork } from '../src/ml/network/train';
import { kerasPython, runKerasSeedRecipe, writeKerasInputs } from './keras/anchor';

interface Scale {
  name: string;
  users: number;
  products: number;
  /** options of the full training run (defaults otherwise) */
  training: TrainingOptionsInput;
  /** batch sizes whose raw throughput is measured */
  batches: number[];
}

const REPO = path.resolve(__dirname, '..');
/** where the seed's transactions.csv is looked for: vendored in the repo, or the shared copy beside the checkout */
const SEED_DATA_CANDIDATES = ['data/seed/transactions.csv', '../shared/data/seed/transactions.csv'];

const program = new Command()
  .description('Benchmark recommender training: the seed recipe on the seed data against Keras, then generated data')
  .option(
    '--seed-data <file>',
    `the seed's transactions.csv (default: the first of ${SEED_DATA_CANDIDATES.join(', ')} that exists, relative to the repo)`,
  )
  .option('--no-keras', 'do not run the Keras anchor')
  .option('--seed-recipe-runs <n>', 'tfjs + Keras pairs on the seed data (machines here are noisy)', (v) => Number(v), 1)
  .option('--seed-recipe-only', 'only the seed recipe on the seed data', false)
  .option('--large-users <n>', 'customers in the large data set', (v) => Number(v), 100_000)
  .option('--large-products <n>', 'products in the large data set', (v) => Number(v), 3_000)
  .option('--large-epochs <n>', 'epochs on the large data set', (v) => Number(v), 1)
  .option('--large-batch <n>', 'batch size of the large-set training run', (v) => Number(v), 8192)
  .option('--large-learning-rate <x>', 'learning rate of the large-set training run', (v) => Number(v), 0.03)
  .option('--skip-large', 'only run the seed-sized data set', false)
  .parse();
const cli = program.opts<{
  seedData?: string;
  keras: boolean;
  seedRecipeRuns: number;
  seedRecipeOnly: boolean;
  largeUsers: number;
  largeProducts: number;
  largeEpochs: number;
  largeBatch: number;
  largeLearningRate: number;
  skipLarge: boolean;
}>();

let peakRss = 0;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
sampler.unref();

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(0)} MB`;
}

function vmHwm(): string {
  try {
    const line = readFileSync('/proc/self/status', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('VmHWM:'));
    return line ? line.replace(/\s+/g, ' ').replace('VmHWM: ', '') : 'n/a';
  } catch {
    return 'n/a';
  }
}

function describeMetrics(m: RecommenderMetrics): string {
  if (!m.evaluated) return `not evaluated (${m.notEvaluatedReason})`;
  return (
    `HR@10 ${m.hr10.toFixed(3)}  NDCG@10 ${m.ndcg10.toFixed(3)}  | popularity HR@10 ${m.popularity.hr10.toFixed(3)} NDCG@10 ${m.popularity.ndcg10.toFixed(3)}` +
    `  | users ${m.users}${m.sampled ? ` (seeded sample of ${m.eligibleUsers})` : ''}  val_loss ${m.valLoss?.toFixed(4) ?? 'n/a'}  held-out loss ${m.heldOutLoss.toFixed(4)}  rmse ${m.rmse.toFixed(4)}`
  );
}

/** About n implicit examples (positives of a seeded sample of pairs + their negatives), as training would build them. */
function implicitExamplesForBench(history: PurchaseHistory, opts: TrainingOptions, n: number): ExampleSet {
  const rng = new Random(deriveSeed(opts.seed, 99));
  const pairs = Math.min(history.products.length, Math.ceil(n / (1 + opts.negatives)));
  const chosen = rng.shuffle(Int32Array.from({ length: history.products.length }, (_, i) => i)).slice(0, pairs);
  return implicitExamples(chosen, pairUsers(history), history, opts.negatives, new NegativeSampler(history, opts.negativeSampling), rng);
}

/** Raw training-step throughput (the step trainNetwork runs) on `n` implicit examples at a given batch size (fresh model, one pass). */
function throughput(history: PurchaseHistory, n: number, batchSize: number): number {
  const opts = resolveTrainingOptions({ batchSize });
  const examples = implicitExamplesForBench(history, opts, n);
  const model = buildNetwork({ ...opts, userRows: history.userRows, productRows: history.productRows });
  try {
    const step = new SparseTrainingStep(model, { ...opts, maxBatch: batchSize }, new Random(1));
    const m = examples.users.length;
    const started = performance.now();
    for (let start = 0; start < m; start += batchSize)
      step.step(examples.users, examples.products, examples.labels, start, Math.min(m, start + batchSize));
    return m / ((performance.now() - started) / 1000);
  } finally {
    model.dispose();
  }
}

function seedDataPath(): string | undefined {
  if (cli.seedData) return cli.seedData;
  return SEED_DATA_CANDIDATES.map((p) => path.resolve(REPO, p)).find((p) => existsSync(p));
}

const fmt = (values: (number | null)[]): string => values.map((v) => (v === null ? 'n/a' : v.toFixed(4))).join(' ');

/**
 * The seed recipe on the seed data: tfjs (trainNetwork + leave-one-out
 * evaluation) and Keras on the same training and validation examples, same
 * hyperparameters, same thread count, in this run.
 */
async function seedRecipeAgainstKeras(): Promise<void> {
  const file = seedDataPath();
  console.log(`\n=== seed recipe on the seed data (real purchases) — tfjs against Keras ===`);
  if (!file) {
    console.log(`seed data not found (looked for ${SEED_DATA_CANDIDATES.join(', ')}; pass --seed-data FILE): skipped`);
    return;
  }
  const history = await readPurchases(createReadStream(file), { source: file });
  const opts = resolveTrainingOptions({ mode: 'seed' });
  // trainRecommender's protocol: train on the leave-one-out training split, evaluate on the held-out products.
  const split = holdOutOnePerUser(history, opts.maxEvalUsers, opts.seed);
  const examples = trainingExamples(split.train, opts);
  const train = examples.forEpoch(1);
  const validation = examples.validation;
  const threads = os.availableParallelism();
  const s = history.stats;
  console.log(
    `data: ${path.relative(process.cwd(), file)}: ${s.transactions.toLocaleString()} baskets, ${history.userRows.toLocaleString()} customer rows × ${history.productRows.toLocaleString()} products, ` +
      `${s.pairs.toLocaleString()} distinct pairs; ${train.users.length.toLocaleString()} training and ${validation?.users.length.toLocaleString() ?? 0} validation examples ` +
      `(identical arrays for both), batch ${opts.batchSize}, ${opts.epochs} epochs, Adam ${opts.learningRate}, MSLE; ${threads} threads (tfjs-node's TensorFlow uses one per core)`,
  );

  let python: string | undefined;
  let dir: string | undefined;
  if (!cli.keras) console.log('Keras: not run (--no-keras)');
  else if (!validation) console.log('Keras: not run (no validation split)');
  else {
    const available = await kerasPython((line) => console.log(`Keras: ${line}`));
    if ('unavailable' in available) console.log(`Keras: not run — ${available.unavailable}; tfjs figures only`);
    else {
      python = available.python;
      dir = await mkdtemp(path.join(os.tmpdir(), 'bench-train-keras-'));
      await writeKerasInputs(dir, train, validation, {
        userRows: history.userRows,
        productRows: history.productRows,
        embeddingDim: opts.embeddingDim,
        hiddenUnits: opts.hiddenUnits,
        dropout: opts.dropout,
        learningRate: opts.learningRate,
        batchSize: opts.batchSize,
        epochs: opts.epochs,
        seed: opts.seed,
      });
    }
  }

  try {
    for (let runIndex = 1; runIndex <= cli.seedRecipeRuns; runIndex++) {
      const label = cli.seedRecipeRuns > 1 ? ` (run ${runIndex})` : '';
      const trained = await trainNetwork(split.train, opts);
      let quality: string;
      try {
        const m = await evaluateHoldout(trained.model, split, history, opts);
        quality = `HR@10 ${m.hr10.toFixed(3)} NDCG@10 ${m.ndcg10.toFixed(3)} on ${m.users.toLocaleString()} customers${m.sampled ? ` (seeded sample of ${m.eligibleUsers.toLocaleString()})` : ''} (popularity ${m.popularity.hr10.toFixed(3)} / ${m.popularity.ndcg10.toFixed(3)})`;
      } finally {
        trained.model.dispose();
      }
      const tfjsRate = trained.examplesPerSecond;
      console.log(
        `tfjs${label}: ${Math.round(tfjsRate).toLocaleString()} examples/s (${trained.seconds.toFixed(1)} s for ${opts.epochs} epochs incl. val_loss); ` +
          `loss ${fmt(trained.lossHistory.map((l) => l.loss))}; val_loss ${fmt(trained.lossHistory.map((l) => l.valLoss))}; ${quality}`,
      );
      if (!python || !dir) continue;
      try {
        const k = await runKerasSeedRecipe(python, dir, threads);
        console.log(
          `Keras${label} (TensorFlow ${k.tensorflow}, Keras ${k.keras}, ${k.threads} threads): ${Math.round(k.examplesPerSecond).toLocaleString()} examples/s ` +
            `(${k.seconds.toFixed(1)} s of model.fit); loss ${fmt(k.loss)}; val_loss ${fmt(k.valLoss)}`,
        );
        console.log(`ratio tfjs / Keras${label}: ${(tfjsRate / k.examplesPerSecond).toFixed(2)}× (target ≥ 1.0×)`);
      } catch (error) {
        console.log(`Keras${label}: failed — ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  } finally {
    if (dir) await rm(dir, { recursive: true, force: true });
  }
}

async function runScale(scale: Scale): Promise<void> {
  console.log(`\n=== ${scale.name}: ${scale.users.toLocaleString()} customers × ${scale.products.toLocaleString()} products ===`);
  const ingestStarted = performance.now();
  const data = generatePurchaseHistory({ seed: 1, users: scale.users, products: scale.products });
  const history = await readPurchases(data.transactions, { source: `generated:${scale.name}` });
  const ingest = (performance.now() - ingestStarted) / 1000;
  const s = history.stats;
  console.log(
    `data: ${s.transactions.toLocaleString()} baskets, ${s.purchases.toLocaleString()} purchases, ${s.pairs.toLocaleString()} distinct pairs; ` +
      `generate + stream-parse ${ingest.toFixed(1)} s (${Math.round(s.transactions / ingest).toLocaleString()} lines/s)`,
  );

  for (const batch of scale.batches) {
    // ~40 batches (at least 50,000 examples) per measurement keeps batch 64 quick on big data.
    const n = Math.min(400_000, Math.max(50_000, batch * 40));
    const eps = throughput(history, n, batch);
    console.log(
      `throughput: batch ${String(batch).padStart(4)}: ${Math.round(eps).toLocaleString()} examples/s (one pass over ${n.toLocaleString()} implicit examples)`,
    );
  }

  const runs: [string, TrainingOptionsInput][] = [[`implicit ${JSON.stringify(scale.training)}`, scale.training]];
  if (scale.name === 'seed-sized') runs.push(['seed recipe', { mode: 'seed' }]);
  for (const [label, options] of runs) {
    const epochSeconds: number[] = [];
    const started = performance.now();
    const result = await trainRecommender(history, options, {
      onProgress: (e) => {
        if (e.kind === 'epoch') epochSeconds.push(e.seconds);
      },
    });
    const total = (performance.now() - started) / 1000;
    const m = result.metrics;
    result.dispose();
    const meanEpoch = epochSeconds.reduce((a, b) => a + b, 0) / Math.max(1, epochSeconds.length);
    console.log(
      `${label}: ${m.training.epochs} epoch(s) × ${m.training.examplesPerEpoch.toLocaleString()} examples, batch ${m.training.batchSize}: ` +
        `epoch ${meanEpoch.toFixed(1)} s, ${Math.round(m.training.examplesPerSecond).toLocaleString()} examples/s, train + evaluate ${total.toFixed(1)} s`,
    );
    console.log(`  ${describeMetrics(m)}`);
  }
  console.log(`memory: peak RSS (sampled) ${mb(peakRss)}, VmHWM ${vmHwm()}, tensors alive ${tf.memory().numTensors}`);
}

async function main(): Promise<void> {
  console.log(`backend ${tf.getBackend()}, tfjs-node ${tf.version['tfjs-node'] ?? '?'}, node ${process.version}`);
  await seedRecipeAgainstKeras();
  if (cli.seedRecipeOnly) return;
  await runScale({ name: 'seed-sized', users: 1000, products: 300, training: {}, batches: [64, 1024] });
  if (!cli.skipLarge) {
    await runScale({
      name: '100× larger',
      users: cli.largeUsers,
      products: cli.largeProducts,
      training: { epochs: cli.largeEpochs, batchSize: cli.largeBatch, learningRate: cli.largeLearningRate },
      batches: [64, 1024, cli.largeBatch],
    });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
