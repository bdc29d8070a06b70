/** tfjs's own model.json + weights.bin files of a trained network, kept in a version's lineage (src/store/lineage.ts). */
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

export const TFJS_WEIGHTS_FILE = 'weights.bin';

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
