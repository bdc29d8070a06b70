import type { Readable } from 'node:stream';
import { deriveSeed, Random } from '../random';
import { TRANSACTIONS_HEADER } from '../dataset/read-transactions';
import { USERS_HEADER } from '../dataset/read-users';
import { PurchaseHistoryBuilder, type PurchaseHistory } from '../dataset/purchase-history';
import { linesToReadable } from './csv-stream';
import { resolveGenerateOptions, type GenerateOptions, type ResolvedGenerateOptions } from './generate-options';
import { buildTasteStructure, customerProfile, pickProduct, STREAM, type TasteStructure } from './taste-structure';

/** The two seed files as streams, ready to upload (e.g. to MinIO) or parse. */
export interface GeneratedPurchaseData {
  options: ResolvedGenerateOptions;
  /** transactions.csv: header `customerId,products`, one basket per line */
  transactions: Readable;
  /** users.csv: header `customerId`, customers 0..users-1 */
  users: Readable;
}

/**
 * Synthetic purchase history, deterministic in its options: the same seed
 * gives the same bytes. Streams are lazy; nothing is generated until read.
 */
export function generatePurchaseHistory(options: GenerateOptions = {}): GeneratedPurchaseData {
  const opts = resolveGenerateOptions(options);
  return {
    options: opts,
    transactions: linesToReadable(historyTransactionLines(opts)),
    users: linesToReadable(userLines(opts)),
  };
}

/**
 * One more "day" of purchases (day >= 1) in the same latent structure, as
 * transaction lines WITHOUT a header, to append to an existing
 * transactions.csv. Deterministic in (options, day).
 */
export function generatePurchaseDay(options: GenerateOptions, day: number): Readable {
  if (!Number.isInteger(day) || day < 1) throw new Error(`day must be an integer >= 1, got ${day}`);
  return linesToReadable(dayTransactionLines(resolveGenerateOptions(options), day));
}

export function* userLines(opts: ResolvedGenerateOptions): Generator<string> {
  yield USERS_HEADER;
  for (let u = 0; u < opts.users; u++) yield String(u);
}

/** Header, then each customer's baskets; total purchases per customer ~ mean × log-normal activity. */
export function* historyTransactionLines(opts: ResolvedGenerateOptions): Generator<string> {
  yield TRANSACTIONS_HEADER;
  for (const { user, basket } of historyBaskets(opts)) yield `${user},${basket.join('|')}`;
}

/**
 * The same baskets as `historyTransactionLines`, aggregated straight into a
 * PurchaseHistory: no CSV text at all, which at 1,000,000 customers saves
 * building and parsing ~100 MB of lines (the scale benchmark uses it).
 */
export function generatePurchaseHistoryInMemory(options: GenerateOptions = {}): PurchaseHistory {
  const opts = resolveGenerateOptions(options);
  const builder = new PurchaseHistoryBuilder();
  for (const { user, basket } of historyBaskets(opts)) builder.addBasket(user, basket);
  return builder.build(`generated:seed=${opts.seed},users=${opts.users},products=${opts.products}`, {
    total: 0,
    reports: [],
    truncated: false,
  });
}

/** Each customer's baskets in order; the yielded array is reused, copy it to keep it. */
function* historyBaskets(opts: ResolvedGenerateOptions): Generator<{ user: number; basket: number[] }> {
  const structure = buildTasteStructure(opts);
  const basket: number[] = [];
  for (let u = 0; u < opts.users; u++) {
    const profile = customerProfile(opts, structure, u);
    const rng = new Random(deriveSeed(opts.seed, STREAM.history, u));
    let remaining = Math.max(1, Math.round(opts.meanPurchasesPerUser * profile.activity));
    while (remaining > 0) {
      const size = Math.min(remaining, 1 + rng.int(opts.maxBasketSize));
      fillBasket(opts, structure, profile, rng, size, basket);
      remaining -= size;
      yield { user: u, basket };
    }
  }
}

/** Baskets of one day: each customer buys one basket with probability dayActiveShare × activity. */
export function* dayTransactionLines(opts: ResolvedGenerateOptions, day: number): Generator<string> {
  const structure = buildTasteStructure(opts);
  const basket: number[] = [];
  for (let u = 0; u < opts.users; u++) {
    const rng = new Random(deriveSeed(opts.seed, STREAM.day, day, u));
    const profile = customerProfile(opts, structure, u);
    if (rng.next() >= Math.min(1, opts.dayActiveShare * profile.activity)) continue;
    fillBasket(opts, structure, profile, rng, 1 + rng.int(opts.maxBasketSize), basket);
    yield `${u},${basket.join('|')}`;
  }
}

function fillBasket(
  opts: ResolvedGenerateOptions,
  structure: TasteStructure,
  profile: ReturnType<typeof customerProfile>,
  rng: Random,
  size: number,
  basket: number[],
): void {
  basket.length = 0;
  for (let i = 0; i < size; i++) basket.push(pickProduct(opts, structure, profile, rng));
}
