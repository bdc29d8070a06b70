/**
 * The purchase history's base objects in the data bucket (keys in
 * layout.ts, `historyKeys`): `transactions.csv` (line order = purchase
 * order), `users.csv`, and `generation.json` beside generated data. Ingested
 * purchases are added by segments and compaction (segments.ts,
 * history-compaction.ts); this module writes the base.
 *
 * S3 replaces an object only when its upload completes, so a failed write
 * leaves the previous object whole. Order of writes: users first, since
 * `transactions.csv` appearing is what makes the history "exist".
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

/** Writes a base history: users, then transactions, then the generation record. */
export async function writeBaseHistory(client: Client, bucket: string, keys: HistoryKeys, history: BaseHistory): Promise<void> {
  if (history.users !== undefined) await client.putObject(bucket, keys.users, history.users, undefined, CSV);
  await client.putObject(bucket, keys.transactions, history.transactions, undefined, CSV);
  if (history.generation !== undefined) await writeGeneration(client, bucket, keys, history.generation);
}

/** Replaces the generation record (how generated data was made, how many days were appended). */
export async function writeGeneration(client: Client, bucket: string, keys: HistoryKeys, generation: unknown): Promise<void> {
  await client.putObject(bucket, keys.generation, Buffer.from(JSON.stringify(generation, null, 2)), undefined, JSON_TYPE);
}

/** The history's bytes as a stream. */
export function openTransactions(client: Client, bucket: string, keys: HistoryKeys): Promise<Readable> {
  return client.getObject(bucket, keys.transactions);
}

/** Appends `lines` to transactions.csv (a new object of the old bytes and the new; the old stays whole if it fails). */
export async function appendToTransactions(client: Client, bucket: string, keys: HistoryKeys, lines: Readable): Promise<void> {
  const combined = concatLines(await openTransactions(client, bucket, keys), lines);
  await client.putObject(bucket, keys.transactions, combined, undefined, CSV);
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
