/**
 * The manager of one slot (TF Serving's AspiredVersionsManager with its
 * default "latest version" policy): the source names the aspired version,
 * the loader brings it in, and the manager keeps each version's status and
 * switches without a gap: the newest complete version is loaded (LOADING), becomes
 * AVAILABLE, and only then is the previous one unloaded (UNLOADING → END).
 * A version that fails to load ends with its error; the previous one keeps
 * serving, and the load is tried again after a back-off (a MinIO blip or a
 * full disk must not leave the slot without its version for ever). A
 * version removed from the store (a failed or cancelled deploy) is
 * unloaded, and the newest complete one left is served again, so that a
 * rollback to it works (issue 24, item 3). Between loading and AVAILABLE the version's warm-up records
 * (assets.extra/tf_serving_warmup_requests) are replayed, as TF Serving does
 * with --enable_model_warmup; a record that fails fails the load.
 */
import fs from 'node:fs/promises';
import type { Client } from 'minio';
import { backoffCeiling, type BackoffPolicy } from '../backoff';
import { cleanStaleCacheDirs, releaseCacheDir, slotCacheDir } from './cache-dir';
import { VersionLoader } from './loader';
import type { Loaded, VersionState, VersionStatus } from './servable';
import { VersionSource } from './source';

export type { Loaded, ServedTensorSpec, Signature, VersionState, VersionStatus } from './servable';

export interface ModelManagerOptions {
  slot: string;
  client: Client;
  bucket: string;
  pollIntervalMs: number;
  cacheDir?: string;
  log?: (msg: string) => void;
  /** back-off between attempts to load a version that failed; default 1 s doubling to 60 s */
  loadRetry?: BackoffPolicy;
  /** polls between full listings of the claims when the slot's change marker did not move (source.ts) */
  fullScanEvery?: number;
  /** called with the number of warm-up records replayed for a version */
  onWarmup?: (version: number, records: number) => void;
}

const EMPTY_POLLS_BEFORE_UNLOAD = 3;

export class ModelManager {
  private readonly statuses = new Map<number, VersionStatus>();
  private readonly warmups = new Map<number, number>();
  /** versions whose load failed: how often, and when to try again */
  private readonly failures = new Map<number, { attempts: number; retryAt: number }>();
  private current: Loaded | undefined;
  private timer: NodeJS.Timeout | undefined;
  private polling = false;
  /** consecutive polls that found no complete version */
  private emptyPolls = 0;
  private stopped = false;
  private readonly cacheDir: string;
  private readonly log: (msg: string) => void;

  private readonly source: VersionSource;
  private readonly loader: VersionLoader;

  constructor(private readonly opts: ModelManagerOptions) {
    this.cacheDir = opts.cacheDir ?? slotCacheDir(opts.slot);
    this.log = opts.log ?? (() => undefined);
    this.source = new VersionSource(opts.client, opts.bucket, opts.slot, opts.fullScanEvery);
    this.loader = new VersionLoader(this.source, this.cacheDir, () => this.stopped);
  }

  start(): void {
    const tick = async () => {
      if (!this.opts.cacheDir)
        await cleanStaleCacheDirs(this.opts.slot).catch((err: unknown) => this.log(`cache clean-up failed: ${(err as Error).message}`));
      await this.pollOnce().catch((err: unknown) => this.log(`poll failed: ${(err as Error).message}`));
      if (!this.stopped) this.timer = setTimeout(() => void tick(), this.opts.pollIntervalMs);
    };
    void tick();
  }

  /** One look at the base path; loads the newest complete version if it is not the one serving. */
  async pollOnce(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const aspired = await this.source.aspiredVersion();
      this.emptyPolls = aspired === undefined ? this.emptyPolls + 1 : 0;
      if (aspired === undefined) {
        // every version is gone from the store: serve none rather than one that no longer exists
        // (seen on a few polls in a row: one odd listing must not stop the slot serving)
        if (this.current && this.emptyPolls >= EMPTY_POLLS_BEFORE_UNLOAD) await this.unloadCurrent();
        return;
      }
      if (aspired === this.current?.version) return;
      const failed = this.failures.get(aspired);
      if (failed && Date.now() < failed.retryAt) return;
      // a newer one is loaded before the current is unloaded; an older one
      // (the current was removed) too, so the slot serves throughout
      await this.load(aspired);
    } finally {
      this.polling = false;
    }
  }

  private async unloadCurrent(): Promise<void> {
    const loaded = this.current;
    if (!loaded) return;
    this.current = undefined;
    this.log(`version ${loaded.version} is no longer in the store`);
    await this.unload(loaded);
  }

  private recordFailure(version: number): number {
    const attempts = (this.failures.get(version)?.attempts ?? 0) + 1;
    const wait = backoffCeiling(attempts - 1, this.opts.loadRetry ?? { initialMs: 1_000, maxMs: 60_000 });
    this.failures.set(version, { attempts, retryAt: Date.now() + wait });
    return wait;
  }

  private setStatus(version: number, state: VersionState, error?: string): void {
    this.statuses.set(version, {
      version,
      state,
      errorCode: error ? 'UNKNOWN' : 'OK',
      errorMessage: error ?? '',
    });
  }

  private async load(version: number): Promise<void> {
    this.setStatus(version, 'START');
    try {
      this.setStatus(version, 'LOADING');
      this.log(`loading version ${version}`);
      const { loaded, warmupRecords } = await this.loader.load(version);
      if (this.stopped) {
        await this.loader.unload(loaded);
        return;
      }
      this.warmups.set(version, warmupRecords);
      this.opts.onWarmup?.(version, warmupRecords);
      if (warmupRecords) this.log(`version ${version}: replayed ${warmupRecords} warm-up records`);
      const previous = this.current;
      this.current = loaded;
      this.failures.delete(version);
      this.setStatus(version, 'AVAILABLE');
      this.log(`version ${version} AVAILABLE`);
      if (previous) await this.unload(previous);
    } catch (err) {
      const message = (err as Error).message;
      this.setStatus(version, 'END', `Failed to load version ${version}: ${message}`);
      const wait = this.recordFailure(version);
      this.source.rescan();
      this.log(`version ${version} failed to load: ${message}; trying again in ${wait} ms`);
    }
  }

  /** Warm-up records replayed for `version` (undefined until it got past warm-up). */
  warmupRecords(version: number): number | undefined {
    return this.warmups.get(version);
  }

  private async unload(loaded: Loaded): Promise<void> {
    this.setStatus(loaded.version, 'UNLOADING');
    await this.loader.unload(loaded);
    this.setStatus(loaded.version, 'END');
    this.log(`version ${loaded.version} unloaded`);
  }

  /** Every version this slot has seen, newest first (TF Serving lists them all). */
  statusList(): VersionStatus[] {
    return [...this.statuses.values()].sort((a, b) => b.version - a.version);
  }

  status(version: number): VersionStatus | undefined {
    return this.statuses.get(version);
  }

  /** The servable that answers for `version` (undefined = latest), if AVAILABLE. */
  servable(version?: number): Loaded | undefined {
    if (!this.current) return undefined;
    if (version !== undefined && version !== this.current.version) return undefined;
    return this.current;
  }

  async close(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.current) await this.unload(this.current);
    this.current = undefined;
    await fs.rm(this.cacheDir, { recursive: true, force: true });
    releaseCacheDir(this.cacheDir);
  }
}
