/**
 * exportSavedModel: NetworkWeights in, a TensorFlow SavedModel directory out
 * — no TensorFlow, no Python. Layout:
 *
 *   <dir>/variables/variables.data-00000-of-00001   raw float32 tensors
 *   <dir>/variables/variables.index                 LevelDB table of BundleEntryProtos
 *   <dir>/assets.extra/tf_serving_warmup_requests   warm-up records (warmup.ts)
 *   <dir>/saved_model.pb                            graph + saver + signature
 *
 * saved_model.pb is written last, so a reader that waits for it never sees a
 * model whose checkpoint is still being written. Output is deterministic:
 * the same weights give byte-identical files (and digests).
 */
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { NetworkWeights } from '../ml/network/network-weights';
import { validateDotProductWeights, type DotProductWeights } from '../ml/dot-weights';
import type { CheckpointTensor } from './checkpoint/checkpoint-tensor';
import type { GraphDefMessage, SaverDefMessage } from './messages';
import { dotProductGraph, dotProductVariables } from './graph/dot-product-graph';
import { validateNetworkWeights } from './validate-weights';
import { modelVariables } from './model-variables';
import { writeTensorBundle } from './checkpoint/bundle-writer';
import { recommenderGraph } from './graph/recommender-graph';
import { encodeSavedModel } from './saved-model-proto';
import { servingSignature, type IdDtype } from './signature';
import { WARMUP_DIR, writeWarmupFile } from './warmup';
import {
  CHECKPOINT_PREFIX,
  SAVED_MODEL_FILE,
  VARIABLES_DATA_FILE,
  VARIABLES_DIR,
  VARIABLES_INDEX_FILE,
  type SavedModelManifest,
} from './manifest';
import { sha256Hex } from '../digest/sha256';

export interface ExportOptions {
  /** dtype of the `users`/`products` inputs; default 'int32' (see signature.ts) */
  idDtype?: IdDtype;
}

/** What the exporter accepts: the seed/implicit MLP, or the dot-product tables of the linear models. */
export type ExportableWeights = NetworkWeights | DotProductWeights;

const isDot = (w: ExportableWeights): w is DotProductWeights => 'kind' in w && w.kind === 'dot';

/** Variables and graph of the weights' model kind (validated first). */
function modelGraph(
  weights: ExportableWeights,
  idDtype: IdDtype,
): { variables: CheckpointTensor[]; graphDef: GraphDefMessage; saverDef: SaverDefMessage } {
  if (isDot(weights)) {
    validateDotProductWeights(weights);
    return { variables: dotProductVariables(weights), ...dotProductGraph(weights, idDtype) };
  }
  validateNetworkWeights(weights);
  return { variables: Object.values(modelVariables(weights)), ...recommenderGraph(weights, idDtype) };
}

/**
 * Writes the SavedModel into `dir`, which must not exist or be empty. On
 * failure, whatever this call wrote is removed again.
 */
export async function exportSavedModel(weights: ExportableWeights, dir: string, options: ExportOptions = {}): Promise<SavedModelManifest> {
  const idDtype = options.idDtype ?? 'int32';
  if (idDtype !== 'int32' && idDtype !== 'int64') throw new Error(`idDtype must be 'int32' or 'int64', got ${String(idDtype)}`);
  const { variables, graphDef, saverDef } = modelGraph(weights, idDtype);
  const createdDir = await prepareEmptyDir(dir);
  try {
    await mkdir(path.join(dir, VARIABLES_DIR));
    const bundle = await writeTensorBundle(path.join(dir, CHECKPOINT_PREFIX), variables);

    const rows = isDot(weights)
      ? { userRows: weights.userRows, productRows: weights.productRows }
      : { userRows: weights.userEmbedding.rows, productRows: weights.productEmbedding.rows };
    const warmup = await writeWarmupFile(dir, { ...rows, idDtype });
    const signature = servingSignature(idDtype);
    const savedModel = encodeSavedModel(graphDef, saverDef, signature);
    await writeFile(path.join(dir, SAVED_MODEL_FILE), savedModel, { flag: 'wx' });

    const files = [
      { path: VARIABLES_DATA_FILE, bytes: bundle.data.bytes, sha256: bundle.data.sha256 },
      { path: VARIABLES_INDEX_FILE, bytes: bundle.index.bytes, sha256: bundle.index.sha256 },
      warmup,
      { path: SAVED_MODEL_FILE, bytes: savedModel.length, sha256: sha256Hex(savedModel) },
    ];
    return {
      format: 'tensorflow-saved-model',
      files,
      totalBytes: files.reduce((n, f) => n + f.bytes, 0),
      signature,
      variables: bundle.tensors.map((t) => ({ name: t.name, shape: [...t.shape] })),
      outputActivation: isDot(weights) ? 'linear' : weights.outputActivation,
    };
  } catch (error) {
    await (createdDir
      ? rm(dir, { recursive: true, force: true })
      : Promise.all([
          rm(path.join(dir, VARIABLES_DIR), { recursive: true, force: true }),
          rm(path.join(dir, WARMUP_DIR), { recursive: true, force: true }),
          rm(path.join(dir, SAVED_MODEL_FILE), { force: true }),
        ]));
    throw error;
  }
}

/** Returns true when it created `dir`; throws if `dir` exists and is not empty. */
async function prepareEmptyDir(dir: string): Promise<boolean> {
  try {
    const entries = await readdir(dir);
    if (entries.length > 0) throw new Error(`export directory ${dir} is not empty`);
    return false;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    await mkdir(dir, { recursive: true });
    return true;
  }
}
