/**
 * npm run bench:ease — dense EASE training time against numpy's (the
 * reference recipe, bench/numpy/ease.py, float64, OpenBLAS) on the same
 * data in the same process tree, alternating runs: the project's Gram
 * (sparse accumulation) + Cholesky-based inverse on TensorFlow's native
 * kernels + the weights read back, vs numpy's X·Xᵀ + inv. Default data:
 * Online Retail (3,659 products), λ 100. Target ≤ 1.5× numpy. Also prints
 * the default model's per-retrain selection time on the same data.
 *
 *   npm run bench:ease [-- --data <customerId,products CSV> --lambda 100 --runs 3]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-node';
import { Command } from 'commander';
import type { PurchaseHistory } from '../src/ml';
import { easeWeights, gramMatrix } from '../src/ml/linear/item-item';
import { selectLinearCandidate, selectionSchema } from '../src/ml/linear/selection';
import { DEFAULT_TIME_CONTEXT } from '../src/ml/linear/purchase-time';
import { numpyPython, runNumpyEase, writePairs } from './numpy/anchor';
import { loadHistory, secondDataset } from './real-datasets';

/** One dense EASE fit, from the history in memory to the weights in memory; returns seconds and Σ|B|. */
function projectEase(history: PurchaseHistory, lambda: number): { seconds: number; sumAbs: number } {
  const t = performance.now();
  const g = gramMatrix(history, 0);
  const w = easeWeights(g, lambda);
  g.dispose();
  const values = w.dataSync();
  w.dispose();
  const seconds = (performance.now() - t) / 1000;
  let sumAbs = 0;
  for (const v of values) sumAbs += Math.abs(v);
  return { seconds, sumAbs };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const cli = new Command('bench:ease')
    .option('--data <file>', 'customerId,products CSV (default: data/online-retail)')
    .option('--lambda <λ>', 'L2 strength', '100')
    .option('--runs <n>', 'alternating runs of each', '3')
    .parse();
  const opts = cli.opts<{ data?: string; lambda: string; runs: string }>();
  const second = secondDataset();
  const file = opts.data ?? ('file' in second ? second.file : undefined);
  if (!file) throw new Error('no data: pass --data <customerId,products CSV>');
  const lambda = Number(opts.lambda);
  const runs = Number(opts.runs);
  const history = await loadHistory(file);
  console.log(
    `data ${file}: ${history.userRows} customer rows, ${history.productRows} products, ${history.products.length} pairs; λ ${lambda}`,
  );
  const py = await numpyPython((line) => console.log(line));
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-ease-'));
  try {
    await writePairs(dir, history);
    projectEase(history, lambda); // warm-up: kernels loaded, first allocation
    const ours: number[] = [];
    const theirs: number[] = [];
    for (let r = 0; r < runs; r++) {
      const p = projectEase(history, lambda);
      ours.push(p.seconds);
      if ('python' in py) {
        const n = await runNumpyEase(py.python, dir, lambda, 1);
        theirs.push(n.seconds[0]);
        console.log(
          `run ${r + 1}: project ${p.seconds.toFixed(2)} s (Σ|B| ${p.sumAbs.toFixed(1)}), numpy ${n.numpy} ${n.seconds[0].toFixed(2)} s (Σ|B| ${n.sumAbs.toFixed(1)})`,
        );
      } else console.log(`run ${r + 1}: project ${p.seconds.toFixed(2)} s`);
    }
    if ('python' in py) {
      const ratio = median(ours) / median(theirs);
      console.log(
        `dense EASE, median of ${runs}: project ${median(ours).toFixed(2)} s, numpy ${median(theirs).toFixed(2)} s → ${ratio.toFixed(2)}× numpy; target ≤ 1.5× ${ratio <= 1.5 ? 'met' : 'NOT met'}`,
      );
    } else console.log(`numpy anchor not available: ${py.unavailable}`);
    const t = performance.now();
    const s = await selectLinearCandidate(history, DEFAULT_TIME_CONTEXT, selectionSchema.parse({}), 42);
    console.log(
      `the default's per-retrain selection on the same data: ${((performance.now() - t) / 1000).toFixed(1)} s for ${s?.candidates.length ?? 0} candidates on ${s?.users ?? 0} validation customers`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
    tf.disposeVariables();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
