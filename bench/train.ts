/**
 * Training benchmark (npm run bench:train → tsx bench/train.ts).
 *
 * For the seed-sized generated data set and one 100× larger (100,000
 * customers × 3,000 products, ~6M purchases) it prints: ingest time (generate
 * + stream-parse), raw training throughput in examples/second at batch 64 and
 * at larger batches, epoch time of the implicit objective (defaults on the
 * seed-sized set; one epoch at batch 8192 on the large set, because tfjs
 * applies Adam densely to the whole embedding tables every batch, so small
 * batches on a 100,000-row table are slow), peak resident memory, and the
 * held-out metrics against popularity. Runs in a few minutes on two cores.
 */
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-node';
import { Command } from 'commander';
import {
  buildNetwork,
  deriveSeed,
  generatePurchaseHistory,
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

interface Scale {
  name: string;
  users: number;
  products: number;
  /** options of the full training run (defaults otherwise) */
  training: TrainingOptionsInput;
  /** batch sizes whose raw throughput is measured */
  batches: number[];
}

const program = new Command()
  .description('Benchmark recommender training on generated data')
  .option('--large-users <n>', 'customers in the large data set', (v) => Number(v), 100_000)
  .option('--large-products <n>', 'products in the large data set', (v) => Number(v), 3_000)
  .option('--large-epochs <n>', 'epochs on the large data set', (v) => Number(v), 1)
  .option('--large-batch <n>', 'batch size of the large-set training run (dense Adam updates of the 100,000-row user table make small batches slow)', (v) => Number(v), 8192)
  .option('--large-learning-rate <x>', 'learning rate of the large-set training run', (v) => Number(v), 0.03)
  .option('--skip-large', 'only run the seed-sized data set', false)
  .parse();
const cli = program.opts<{ largeUsers: number; largeProducts: number; largeEpochs: number; largeBatch: number; largeLearningRate: number; skipLarge: boolean }>();

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

/** Raw model.fit throughput on `n` implicit examples at a given batch size (fresh model, one pass). */
async function throughput(history: PurchaseHistory, n: number, batchSize: number): Promise<number> {
  const opts = resolveTrainingOptions({ batchSize });
  const examples = implicitExamplesForBench(history, opts, n);
  const model = buildNetwork({ ...opts, userRows: history.userRows, productRows: history.productRows });
  const optimizer = tf.train.adam(opts.learningRate);
  model.compile({ optimizer, loss: opts.loss });
  const m = examples.users.length;
  const xs = [tf.tensor2d(examples.users, [m, 1], 'int32'), tf.tensor2d(examples.products, [m, 1], 'int32')];
  const y = tf.tensor2d(examples.labels, [m, 1]);
  try {
    const started = performance.now();
    await model.fit(xs, y, { epochs: 1, batchSize, shuffle: false, verbose: 0 });
    return m / ((performance.now() - started) / 1000);
  } finally {
    xs.forEach((t) => t.dispose());
    y.dispose();
    optimizer.dispose();
    model.dispose();
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
    const eps = await throughput(history, n, batch);
    console.log(`throughput: batch ${String(batch).padStart(4)}: ${Math.round(eps).toLocaleString()} examples/s (one pass over ${n.toLocaleString()} implicit examples)`);
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
