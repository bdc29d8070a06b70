/**
 * The source of a slot (TF Serving's Source): which versions exist under the
 * slot's base path `<bucket>/<slot>/` and may be loaded, polled as TF Serving
 * polls its file system. Through the store layer: only complete, claimed
 * versions whose files match their digests count, odd directory names are
 * ignored, and a download checks every byte against the claim.
 *
 * A poll costs one HEAD of the slot's change marker (issue 24, item 12):
 * the claims are listed and checked only when the marker moved, at start,
 * and every `fullScanEvery` polls (a change made behind the store's back, or
 * a deploy from before the marker), so the load of every replica polling
 * every second does not grow with the number of versions deployed.
 */
import type { Client } from 'minio';
import { downloadVersion, latestCompleteVersion, slotChangeTag } from '../../store';

/** Polls between full scans when the marker did not move (60 s at the default 1 s poll). */
export const DEFAULT_FULL_SCAN_EVERY = 60;

export class VersionSource {
  /** the marker's ETag when `aspired` was found (null: not scanned yet) */
  private seenTag: string | undefined | null = null;
  private aspired: number | undefined;
  private pollsSinceScan = 0;

  constructor(
    private readonly client: Client,
    private readonly bucket: string,
    readonly slot: string,
    private readonly fullScanEvery = DEFAULT_FULL_SCAN_EVERY,
  ) {}

  /** The version the slot should serve: the newest complete one (undefined when there is none). */
  async aspiredVersion(): Promise<number | undefined> {
    // the tag is read before the scan: a change during the scan moves it again, so the next poll rescans
    const tag = await slotChangeTag(this.client, this.bucket, this.slot);
    this.pollsSinceScan += 1;
    const fresh = this.seenTag !== null && tag !== undefined && tag === this.seenTag && this.pollsSinceScan < this.fullScanEvery;
    if (fresh) return this.aspired;
    this.aspired = await latestCompleteVersion(this.client, this.bucket, this.slot);
    // "none" is looked at again on every poll: the manager unloads only after several such looks in a row
    this.seenTag = this.aspired === undefined ? null : tag;
    this.pollsSinceScan = 0;
    return this.aspired;
  }

  /** The next poll lists the claims again (a load failed: the version may have gone incomplete behind the store's back). */
  rescan(): void {
    this.seenTag = null;
  }

  /** The version's files into `dir`, each checked against its claimed digest. */
  async download(version: number, dir: string): Promise<void> {
    await downloadVersion(this.client, this.bucket, this.slot, version, dir);
  }
}
