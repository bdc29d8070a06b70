/**
 * The purchase history's base objects in the data bucket (keys in
 * layout.ts, `historyKeys`): `transactions.csv` (line order = purchase
 * order), `users.csv`, and `generation.json` beside generated data. Ingested
 * purchases are added by segments and compaction (segments.ts,
 * history-compaction.ts); this module writes the base.
 *
 * S3 replaces an object only when its upload completes, so a failed write
 * leaves the previous object whole. A crash between two writes must leave a
 * state the next run can go on from (issue 24, item 10):
 *  - `transactions.csv` appearing is what makes the history "exist", so it
 *    is written last, after users and the generation record;
 *  - an appended day's number is stored in the same object as its lines
 *    (metadata `generated-days` of `transactions.csv`, written atomically with
 *    them), so a crash before `generation.json` is updated cannot make the
 *    next run append that day again.
 */
import { PassThrough, type Readable } from 'node:stream';
import type { Client } from 'minio';
import type { HistoryKeys } from './layout';

const CSV = { 'Content-Type': 'text/csv' };
const JSON_TYPE = { 'Content-Type': 'application/json' };

export interface BaseHistory {
  users?: Buffer | Readable;
  transactions: Buffer | Readable;
  /** JSON-serialisable description of generated data (absent for real data) */
  generation?: unknown;
}

/** Writes a base history: users, the generation record, then transactions (which makes it exist). */
export async function writeBaseHistory(client: Client, bucket: string, keys: HistoryKeys, history: BaseHistory): Promise<void> {
  if (history.users !== undefined) await client.putObject(bucket, keys.users, history.users, undefined, CSV);
  if (history.generation !== undefined) await writeGeneration(client, bucket, keys, history.generation);
  await client.putObject(bucket, keys.transactions, history.transactions, undefined, { ...CSV, [DAYS_META]: '0' });
}

/** Metadata of transactions.csv: how many generated days its lines hold. */
const DAYS_META = 'generated-days';

/** Generated days held by transactions.csv, as recorded with its bytes (undefined for an object written before it was). */
export async function generatedDays(client: Client, bucket: string, keys: HistoryKeys): Promise<number | undefined> {
  const meta = (await client.statObject(bucket, keys.transactions)).metaData as Record<string, string | undefined>;
  const days = Number(meta[DAYS_META]);
  return meta[DAYS_META] !== undefined && Number.isSafeInteger(days) && days >= 0 ? days : undefined;
}

/** Replaces the generation record (how generated data was made, how many days were appended). */
export async function writeGeneration(client: Client, bucket: string, keys: HistoryKeys, generation: unknown): Promise<void> {
  await client.putObject(bucket, keys.generation, Buffer.from(JSON.stringify(generation, null, 2)), undefined, JSON_TYPE);
}

/** The history's bytes as a stream. */
export function openTransactions(client: Client, bucket: string, keys: HistoryKeys): Promise<Readable> {
  return client.getObject(bucket, keys.transactions);
}

/**
 * Appends generated day `day`'s `lines` to transactions.csv: a new object of
 * the old bytes and the new, recording `day` with them (the old object stays
 * whole if it fails).
 */
export async function appendDayToTransactions(
  client: Client,
  bucket: string,
  keys: HistoryKeys,
  day: number,
  lines: Readable,
): Promise<void> {
  const combined = concatLines(await openTransactions(client, bucket, keys), lines);
  await client.putObject(bucket, keys.transactions, combined, undefined, { ...CSV, [DAYS_META]: String(day) });
}

/** Concatenates streams into one, adding a newline between them when the first does not end with one. */
function concatLines(first: Readable, second: Readable): Readable {
  const out = new PassThrough();
  void (async () => {
    try {
      let last = 10;
      for await (const chunk of first) {
        const buf = chunk as Buffer;
        if (buf.length) last = buf[buf.length - 1];
        if (!out.write(buf)) await new Promise((r) => out.once('drain', r));
      }
      if (last !== 10) out.write('\n');
      for await (const chunk of second) {
        if (!out.write(chunk)) await new Promise((r) => out.once('drain', r));
      }
      out.end();
    } catch (err) {
      out.destroy(err as Error);
    }
  })();
  return out;
}
