/**
 * Lineage of a published version: what it was trained from and how it
 * scored, kept beside the SavedModel but outside the directory TF Serving
 * reads — `<bucket>/lineage/<slot>/<version>/` (src/store/layout.ts):
 *
 *   metadata.json        caller's description (table sizes, popularity ranking, …)
 *   metrics.json         evaluation metrics
 *   loss.svg             training curve (optional)
 *   tfjs/model.json      the tfjs model (optional), in tfjs's own file layout,
 *   tfjs/weights.bin       loadable with tf.loadLayersModel
 *
 * Contents are opaque to this module. metadata.json is written last, so its
 * presence marks a complete lineage record. Re-writing the lineage of the
 * same version (an activity retry) replaces it; it describes the version, it
 * is not the version.
 */
import type { Client } from 'minio';
import { sha256Hex } from '../digest/sha256';
import { tfjsFiles, TFJS_WEIGHTS_FILE, type TfjsModelArtifacts, type TfjsModelFiles } from '../savedmodel/tfjs-files';
import { getOptionalObject, listDirectories } from '../storage/objects';
import { LINEAGE_METADATA_FILE, lineageMetadataKey, lineagePrefix, lineageSlotPrefix, versionNumbers } from './layout';

export interface LineageInput {
  bucket: string;
  slot: string;
  version: number;
  /** default 'lineage' (tests use private roots) */
  prefix?: string;
  /** JSON-serialisable */
  metadata: unknown;
  /** JSON-serialisable */
  metrics: unknown;
  lossSvg?: string | Buffer;
  tfjsModel?: TfjsModelArtifacts | TfjsModelFiles;
}

export interface LineageResult {
  bucket: string;
  /** `<prefix>/<slot>/<version>/` */
  prefix: string;
  objects: { key: string; bytes: number; sha256: string }[];
}

export async function publishLineage(client: Client, input: LineageInput): Promise<LineageResult> {
  if (!Number.isSafeInteger(input.version) || input.version < 1)
    throw new Error(`version must be a positive integer, got ${input.version}`);
  const prefix = lineagePrefix(input.slot, input.version, input.prefix);

  const files: { name: string; body: Buffer; contentType: string }[] = [];
  if (input.tfjsModel) {
    const { modelJson, weightsBin } = tfjsFiles(input.tfjsModel);
    files.push({ name: `tfjs/${TFJS_WEIGHTS_FILE}`, body: weightsBin, contentType: 'application/octet-stream' });
    files.push({ name: 'tfjs/model.json', body: modelJson, contentType: 'application/json' });
  }
  if (input.lossSvg !== undefined) files.push({ name: 'loss.svg', body: Buffer.from(input.lossSvg), contentType: 'image/svg+xml' });
  files.push({ name: 'metrics.json', body: jsonBytes('metrics', input.metrics), contentType: 'application/json' });
  files.push({ name: LINEAGE_METADATA_FILE, body: jsonBytes('metadata', input.metadata), contentType: 'application/json' });

  const objects: LineageResult['objects'] = [];
  for (const file of files) {
    const key = prefix + file.name;
    await client.putObject(input.bucket, key, file.body, file.body.length, { 'Content-Type': file.contentType });
    objects.push({ key, bytes: file.body.length, sha256: sha256Hex(file.body) });
  }
  return { bucket: input.bucket, prefix, objects };
}

function jsonBytes(label: string, value: unknown): Buffer {
  const text = JSON.stringify(value, null, 2);
  if (text === undefined) throw new Error(`lineage ${label} is not JSON-serialisable`);
  return Buffer.from(`${text}\n`, 'utf8');
}

/** A version's lineage metadata.json, parsed; undefined when there is none (not yet written, or removed). */
export async function readLineageMetadata(client: Client, bucket: string, slot: string, version: number): Promise<unknown> {
  const key = lineageMetadataKey(slot, version);
  const bytes = await getOptionalObject(client, bucket, key);
  if (!bytes) return undefined;
  try {
    return JSON.parse(bytes.toString('utf8')) as unknown;
  } catch (err) {
    throw new Error(`${bucket}/${key} is not JSON: ${(err as Error).message}`);
  }
}

/** The versions of `slot` that have a lineage record (complete or not), ascending. */
export async function listLineageVersions(client: Client, bucket: string, slot: string): Promise<number[]> {
  return versionNumbers(await listDirectories(client, bucket, lineageSlotPrefix(slot)));
}
