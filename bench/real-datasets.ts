/**
 * The real purchase data the quality benchmarks judge models on: the seed's
 * own history (data/seed, Apache-2.0) and the UCI Online Retail conversion
 * (data/online-retail, CC BY 4.0), or the CSV QUALITY_SECOND_DATASET names
 * in its place.
 */
import { createReadStream, existsSync } from 'node:fs';
import path from 'node:path';
import { readPurchases, type PurchaseHistory } from '../src/ml';

export interface RealDataset {
  name: string;
  file: string;
  /** the seed data, where the absolute targets apply */
  seed: boolean;
}

const root = path.join(__dirname, '..', 'data');

export const SEED_DATASET: RealDataset = {
  name: 'seed purchase data (data/seed, Apache-2.0)',
  file: path.join(root, 'seed', 'transactions.csv'),
  seed: true,
};

/** The second data set, or why it is absent (the benchmarks then skip it). */
export function secondDataset(): RealDataset | { missing: string } {
  const override = process.env.QUALITY_SECOND_DATASET;
  const file = override ?? path.join(root, 'online-retail', 'transactions.csv');
  if (!existsSync(file))
    return { missing: `second dataset: ${file} not found (skipped); set QUALITY_SECOND_DATASET to a customerId,products CSV` };
  return { name: override ? file : 'UCI Online Retail (data/online-retail, CC BY 4.0)', file, seed: false };
}

export function loadHistory(file: string): Promise<PurchaseHistory> {
  return readPurchases(createReadStream(file), { source: file });
}
