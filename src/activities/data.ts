/**
 * refreshData. When the bucket has no base history (transactions.csv) it
 * publishes the vendored REAL seed data (data/seed, Apache-2.0), or generated
 * history when a size (users/products) is asked for (scale tests). In the
 * default mode `history` it then compacts the base and every purchase the
 * data publisher ingested into a new history object (src/store/history-compaction.ts);
 * `append-day` instead appends one generated "day" to the base (scale tests).
 * Then it reads the history back as the trainer will (streaming) and returns
 * a reference: bucket/key, counts, digest, bad-line summary.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { ApplicationFailure, Context } from '@temporalio/activity';
import {
  generatePurchaseDay,
  generatePurchaseHistory,
  NoUsableRowsError,
  SparseIdsError,
  readPurchases,
  type GenerateOptions,
  type PurchaseHistory,
} from '../ml';
import { getOptionalObject, objectExists } from '../storage/objects';
import { compactHistory } from '../store/history-compaction';
import { DEFAULT_DATA_MODE, type DataOptions, type DataRef } from '../workflows/types';
import type { ActivityDeps, TrainDeps, TrainingConfig } from './deps';
import { Sha256Tap } from '../digest/sha256';
import { appendDayToTransactions, generatedDays, openTransactions, writeBaseHistory, writeGeneration } from '../store/history';
import { historyKeys, type HistoryKeys } from '../store/layout';
import { FailureType } from '../failure-types';
import { takePendingTrigger } from '../store/trigger-record';

/** Kept beside generated data: how it was generated and how many days were appended. */
interface GenerationState {
  options: GenerateOptions;
  days: number;
}

export interface DataKeys extends HistoryKeys {
  bucket: string;
}

export function dataKeys(deps: { config: Pick<TrainingConfig, 'buckets' | 'dataPrefix'> }): DataKeys {
  return { bucket: deps.config.buckets.data, ...historyKeys(deps.config.dataPrefix) };
}

async function publishGenerated(deps: ActivityDeps, keys: DataKeys, options: GenerateOptions): Promise<void> {
  const data = generatePurchaseHistory(options);
  const generation: GenerationState = { options: data.options, days: 0 };
  await writeBaseHistory(deps.minio, keys.bucket, keys, { users: data.users, transactions: data.transactions, generation });
}

/** The vendored real purchase data (see data/seed/README.md). */
export const SEED_DATA_DIR = path.join(__dirname, '..', '..', 'data', 'seed');

/**
 * Publishes the vendored seed data, with a generation state sized to its id
 * ranges so that append-day can add generated days on top.
 */
async function publishSeed(deps: ActivityDeps, keys: DataKeys, seed: number | undefined): Promise<void> {
  const [transactions, users] = await Promise.all([
    readFile(path.join(SEED_DATA_DIR, 'transactions.csv')),
    readFile(path.join(SEED_DATA_DIR, 'users.csv')),
  ]);
  const history = await readPurchases(PassThrough.from(transactions), { source: 'data/seed/transactions.csv' });
  const options: GenerateOptions = { users: history.userRows, products: history.productRows, ...(seed !== undefined && { seed }) };
  const generation = { options, days: 0, base: 'data/seed (real)' };
  await writeBaseHistory(deps.minio, keys.bucket, keys, { users, transactions, generation });
}

async function appendDay(deps: ActivityDeps, keys: DataKeys): Promise<number> {
  const raw = await getOptionalObject(deps.minio, keys.bucket, keys.generation);
  if (!raw) {
    throw ApplicationFailure.nonRetryable(
      `append-day needs generated history: ${keys.bucket}/${keys.generation} is missing (the data was not made by the generator)`,
      FailureType.BadInput,
    );
  }
  const state = JSON.parse(raw.toString('utf8')) as GenerationState;
  // the history's own count wins: a crash may have come after its write and before generation.json's
  const day = Math.max(state.days, (await generatedDays(deps.minio, keys.bucket, keys)) ?? 0) + 1;
  await appendDayToTransactions(deps.minio, keys.bucket, keys, day, generatePurchaseDay(state.options, day));
  await writeGeneration(deps.minio, keys.bucket, keys, { ...state, days: day });
  return day;
}

/** Streams transactions.csv from MinIO into the parser, hashing the bytes on the way. */
export async function readHistory(deps: TrainDeps, keys: DataKeys): Promise<{ history: PurchaseHistory; sha256: string }> {
  const source = await openTransactions(deps.minio, keys.bucket, keys);
  const tap = new Sha256Tap();
  source.on('error', (err) => tap.destroy(err));
  source.pipe(tap);
  try {
    const history = await readPurchases(tap, {
      source: `s3://${keys.bucket}/${keys.transactions}`,
      maxBadLineReports: 20,
      ...deps.config.dataLimits,
    });
    return { history, sha256: tap.digest() };
  } catch (err) {
    if (err instanceof NoUsableRowsError || err instanceof SparseIdsError)
      throw ApplicationFailure.nonRetryable(err.message, FailureType.BadInput);
    throw err;
  }
}

/** The base plus every ingested purchase, as one history object (heartbeating while it is written). */
async function compactIngested(deps: ActivityDeps, keys: DataKeys) {
  const ctx = Context.current();
  const store = { client: deps.minio, bucket: keys.bucket, dataPrefix: deps.config.dataPrefix, topic: deps.config.purchases.topic };
  const { manifest, written } = await compactHistory(store, keys.transactions, {
    reorderWindow: deps.config.purchases.reorderWindow,
    heartbeat: () => ctx.heartbeat(),
  });
  ctx.log.info(written ? 'compacted the ingested purchases into a new history' : 'no purchases ingested since the last compaction', {
    key: manifest.historyKey,
    purchases: manifest.purchases,
    segments: manifest.segments,
  });
  return manifest;
}

/** The data trigger's reason when it started this run (src/store/trigger-record.ts). */
async function triggeredBy(deps: ActivityDeps, keys: DataKeys): Promise<string | undefined> {
  const info = Context.current().info;
  if (!info.workflowExecution) return undefined;
  const where = { client: deps.minio, bucket: keys.bucket, dataPrefix: deps.config.dataPrefix };
  return takePendingTrigger(where, { ...info.workflowExecution, scheduledAtMs: info.scheduledTimestampMs });
}

export function dataActivities(deps: ActivityDeps) {
  const keys = dataKeys(deps);
  return {
    async refreshData(options: DataOptions): Promise<DataRef> {
      const log = Context.current().log;
      const mode = options.mode ?? DEFAULT_DATA_MODE;
      const present = await objectExists(deps.minio, keys.bucket, keys.transactions);
      if (!present && mode === 'existing') {
        throw ApplicationFailure.nonRetryable(`no purchase history at ${keys.bucket}/${keys.transactions}`, FailureType.BadInput);
      }
      if (!present && options.users === undefined && options.products === undefined) {
        log.info('publishing the vendored seed purchase data (real)');
        await publishSeed(deps, keys, options.seed);
      } else if (!present) {
        const gen: GenerateOptions = { users: options.users, products: options.products, seed: options.seed };
        log.info('publishing generated purchase history', { ...gen });
        await publishGenerated(deps, keys, gen);
      } else if (mode === 'append-day') {
        const day = await appendDay(deps, keys);
        log.info('appended a generated day of purchases', { day });
      }
      const ingested = mode === 'history' ? await compactIngested(deps, keys) : undefined;
      const historyKey = ingested?.historyKey ?? keys.transactions;
      const { history, sha256 } = await readHistory(deps, { ...keys, transactions: historyKey });
      if (history.badLines.total > 0) {
        log.warn('skipped bad lines in purchase history', {
          total: history.badLines.total,
          first: history.badLines.reports.slice(0, 5).map((b) => `line ${b.line}: ${b.reason}`),
        });
      }
      const trigger = await triggeredBy(deps, keys);
      return {
        ...(trigger && { trigger }),
        bucket: keys.bucket,
        transactionsKey: historyKey,
        usersKey: keys.users,
        sha256,
        rows: history.stats.transactions,
        badLines: history.badLines.total,
        badLineSamples: history.badLines.reports.slice(0, 5).map((b) => `line ${b.line}: ${b.reason}`),
        customers: history.stats.customers,
        products: history.productRows,
        purchases: history.stats.purchases,
        ...(ingested && { ingested: { purchases: ingested.purchases, segments: ingested.segments } }),
      };
    },
  };
}
