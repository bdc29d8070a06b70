/**
 * The source of a slot (TF Serving's Source): which versions exist under the
 * slot's base path `<bucket>/<slot>/` and may be loaded, polled as TF Serving
 * polls its file system. Through the store layer: only complete, claimed
 * versions whose files match their digests count, odd directory names are
 * ignored, and a download checks every byte against the claim.
 */
import type { Client } from 'minio';
import { downloadVersion, latestCompleteVersion } from '../../store';

export class VersionSource {
  constructor(
    private readonly client: Client,
    private readonly bucket: string,
    readonly slot: string,
  ) {}

  /** The version the slot should serve: the newest complete one (undefined when there is none). */
  aspiredVersion(): Promise<number | undefined> {
    return latestCompleteVersion(this.client, this.bucket, this.slot);
  }

  /** The version's files into `dir`, each checked against its claimed digest. */
  async download(version: number, dir: string): Promise<void> {
    await downloadVersion(this.client, this.bucket, this.slot, version, dir);
  }
}
