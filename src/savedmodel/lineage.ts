/**
 * Lineage of a published version: what it was trained from and how it
 * scored, kept beside the SavedModel but outside the directory TF Serving
 * reads — `<bucket>/<lineagePrefix>/<slot>/<version>/`:
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
import { validateSlotName } from '../model-store/publish';
import { sha256Hex } from '../digest/sha256';

export const DEFAULT_LINEAGE_PREFIX = 'lineage';

/** The parts of tfjs's `io.ModelArtifacts` that a model.json + weights.bin pair holds. */
export interface TfjsModelArtifacts {
  modelTopology?: unknown;
  weightSpecs?: unknown[];
  /** tfjs 4 WeightData: one buffer, or shards to be concatenated */
  weightData?: ArrayBuffer | ArrayBuffer[];
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
  trainingConfig?: unknown;
  userDefinedMetadata?: Record<string, unknown>;
}

/** Already-serialised tfjs files; model.json's weightsManifest must name `weights.bin`. */
export interface TfjsModelFiles {
  modelJson: string | Buffer;
  weightsBin: Uint8Array;
}

export interface LineageInput {
  bucket: string;
  slot: string;
  version: number;
  /** default 'lineage' */
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

export const TFJS_WEIGHTS_FILE = 'weights.bin';

export async function publishLineage(client: Client, input: LineageInput): Promise<LineageResult> {
  validateSlotName(input.slot);
  if (!Number.isSafeInteger(input.version) || input.version < 1)
    throw new Error(`version must be a positive integer, got ${input.version}`);
  const root = (input.prefix ?? DEFAULT_LINEAGE_PREFIX).replace(/\/+$/, '');
  if (root === '' || root === input.slot)
    throw new Error(`lineage prefix ${JSON.stringify(root)} must be non-empty and differ from the slot`);
  const prefix = `${root}/${input.slot}/${input.version}/`;

  const files: { name: string; body: Buffer; contentType: string }[] = [];
  if (input.tfjsModel) {
    const { modelJson, weightsBin } = tfjsFiles(input.tfjsModel);
    files.push({ name: `tfjs/${TFJS_WEIGHTS_FILE}`, body: weightsBin, contentType: 'application/octet-stream' });
    files.push({ name: 'tfjs/model.json', body: modelJson, contentType: 'application/json' });
  }
  if (input.lossSvg !== undefined) files.push({ name: 'loss.svg', body: Buffer.from(input.lossSvg), contentType: 'image/svg+xml' });
  files.push({ name: 'metrics.json', body: jsonBytes('metrics', input.metrics), contentType: 'application/json' });
  files.push({ name: 'metadata.json', body: jsonBytes('metadata', input.metadata), contentType: 'application/json' });

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

function isFiles(model: TfjsModelArtifacts | TfjsModelFiles): model is TfjsModelFiles {
  return 'modelJson' in model && 'weightsBin' in model;
}

/** tfjs's own model.json layout (as tf.io file handlers write it), with all weights in one file. */
export function tfjsFiles(model: TfjsModelArtifacts | TfjsModelFiles): { modelJson: Buffer; weightsBin: Buffer } {
  if (isFiles(model)) {
    return {
      modelJson: Buffer.from(model.modelJson),
      weightsBin: Buffer.from(model.weightsBin.buffer, model.weightsBin.byteOffset, model.weightsBin.byteLength),
    };
  }
  if (model.modelTopology === undefined) throw new Error('tfjs model artifacts have no modelTopology');
  const data = model.weightData;
  const weightsBin =
    data === undefined ? Buffer.alloc(0) : Array.isArray(data) ? Buffer.concat(data.map((b) => Buffer.from(b))) : Buffer.from(data);
  const json: Record<string, unknown> = {
    modelTopology: model.modelTopology,
    format: model.format,
    generatedBy: model.generatedBy,
    convertedBy: model.convertedBy,
    weightsManifest: [{ paths: [TFJS_WEIGHTS_FILE], weights: model.weightSpecs ?? [] }],
  };
  if (model.trainingConfig !== undefined) json.trainingConfig = model.trainingConfig;
  if (model.userDefinedMetadata !== undefined) json.userDefinedMetadata = model.userDefinedMetadata;
  return { modelJson: Buffer.from(JSON.stringify(json)), weightsBin };
}
