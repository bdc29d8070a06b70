/**
 * Where the popularity fallback gets its ranking: by default the lineage
 * object of the model version being served,
 * `<models bucket>/lineage/<slot>/<version>/metadata.json`. The source is a
 * plain function so that another store (or a test) can take its place.
 */
import type { Client } from 'minio';
import { readLineageMetadata } from '../../store/lineage';

/** Product ids, most popular first, for one deployed model version; undefined when unknown. */
export type LoadPopularity = (slot: string, version: number) => Promise<number[] | undefined>;

/**
 * The popularity ranking inside a lineage metadata document. Accepted
 * shapes (the first that is present wins): `popularProducts: number[]`
 * (what training writes, src/ml/metadata.ts: the top products only),
 * `popularity: number[]`, `popularity: { order: number[] }`,
 * `popularityOrder: number[]`. Anything else, or any id that is not a
 * non-negative integer, means "no ranking here".
 */
export function popularityFromMetadata(doc: unknown): number[] | undefined {
  if (!doc || typeof doc !== 'object') return undefined;
  const d = doc as Record<string, unknown>;
  const candidates: unknown[] = [
    d.popularProducts,
    d.popularity,
    d.popularity && typeof d.popularity === 'object' ? (d.popularity as Record<string, unknown>).order : undefined,
    d.popularityOrder,
  ];
  for (const c of candidates) {
    if (Array.isArray(c) && c.length > 0 && c.every((p) => Number.isSafeInteger(p) && (p as number) >= 0)) return c as number[];
  }
  return undefined;
}

export interface CachedSourceOptions {
  /** how long "not found" is remembered before asking the store again (lineage may be written late) */
  missTtlMs?: number;
  /** versions kept in memory */
  maxEntries?: number;
  now?: () => number;
}

/**
 * Caches a source: a version's ranking never changes once written, so hits
 * are kept (most recent `maxEntries` versions); misses and failures are
 * remembered briefly so a burst of out-of-range requests does not turn into
 * a burst of store reads. Failures of the store become misses (logged by
 * `onError`): the caller answers with an error result rather than crash.
 */
export function cachedPopularitySource(
  load: LoadPopularity,
  onError: (err: unknown, slot: string, version: number) => void,
  options: CachedSourceOptions = {},
): LoadPopularity {
  return cachedPerVersion(load, onError, options);
}

/** A value read once per model version (it never changes once written); undefined when unknown. */
export type PerVersion<T> = (slot: string, version: number) => Promise<T | undefined>;

/** The cache of cachedPopularitySource, for any per-version value. */
export function cachedPerVersion<T>(
  load: PerVersion<T>,
  onError: (err: unknown, slot: string, version: number) => void,
  options: CachedSourceOptions = {},
): PerVersion<T> {
  const missTtlMs = options.missTtlMs ?? 30_000;
  const maxEntries = options.maxEntries ?? 8;
  const now = options.now ?? Date.now;
  const hits = new Map<string, T>();
  const misses = new Map<string, number>();
  const inFlight = new Map<string, Promise<T | undefined>>();

  return async (slot, version) => {
    const key = `${slot}/${version}`;
    const hit = hits.get(key);
    if (hit) return hit;
    const missedAt = misses.get(key);
    if (missedAt !== undefined && now() - missedAt < missTtlMs) return undefined;
    const pending = inFlight.get(key);
    if (pending) return pending;
    const lookup = (async () => {
      try {
        const found = await load(slot, version);
        if (found) {
          hits.set(key, found);
          if (hits.size > maxEntries) hits.delete(hits.keys().next().value as string);
          misses.delete(key);
        } else {
          misses.set(key, now());
        }
        return found;
      } catch (err) {
        onError(err, slot, version);
        misses.set(key, now());
        return undefined;
      } finally {
        inFlight.delete(key);
      }
    })();
    inFlight.set(key, lookup);
    return lookup;
  };
}

/** The sizes of a model's tables: ids at or beyond them are unknown to it. */
export interface TableSizes {
  userRows: number;
  productRows: number;
}

/** `userRows` and `productRows` of a lineage metadata document (src/ml/metadata.ts), if both are there. */
export function tableSizesFromMetadata(doc: unknown): TableSizes | undefined {
  if (!doc || typeof doc !== 'object') return undefined;
  const { userRows, productRows } = doc as Record<string, unknown>;
  const rows = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) > 0;
  return rows(userRows) && rows(productRows) ? { userRows, productRows } : undefined;
}

/** Reads rankings from lineage objects in MinIO (uncached: wrap with cachedPopularitySource). */
export function lineagePopularitySource(client: Client, bucket: string): LoadPopularity {
  return async (slot, version) => popularityFromMetadata(await readLineageMetadata(client, bucket, slot, version));
}

/** Reads table sizes from lineage objects in MinIO (uncached: wrap with cachedPerVersion). */
export function lineageTableSizesSource(client: Client, bucket: string): PerVersion<TableSizes> {
  return async (slot, version) => tableSizesFromMetadata(await readLineageMetadata(client, bucket, slot, version));
}
