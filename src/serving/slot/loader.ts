/**
 * The loader of a slot (TF Serving's Loader): brings one version from the
 * source into memory — download with the digests checked, TensorFlow's own
 * SavedModel loader, warm-up records replayed as TF Serving does with
 * --enable_model_warmup (a record that fails fails the load) — and frees it
 * again. It keeps no state about which version should be served: that is
 * the manager's.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-node';
import type { TFSavedModel } from '@tensorflow/tfjs-node/dist/saved_model';
import { PREDICT_METHOD, SERVE_TAG, SIGNATURE_NAME } from '../../savedmodel/serving-contract';
import { readWarmupFile } from '../../savedmodel/warmup';
import { scoreColumns } from './scoring';
import type { Loaded, ServedTensorSpec, Signature } from './servable';
import type { VersionSource } from './source';
import { idColumnsFromTensors } from './tensor-proto';

export class VersionLoader {
  constructor(
    private readonly source: VersionSource,
    private readonly cacheDir: string,
    /** true once the slot is closing: a warm-up in progress stops */
    private readonly stopping: () => boolean,
  ) {}

  /** Loads `version` and replays its warm-up records; returns the servable and how many records were replayed. */
  async load(version: number): Promise<{ loaded: Loaded; warmupRecords: number }> {
    const dir = path.join(this.cacheDir, `${version}-${randomUUID()}`);
    try {
      await this.source.download(version, dir);
      const signature = readSignature(await tf.node.getMetaGraphsFromSavedModel(dir));
      const model = await tf.node.loadSavedModel(dir, [SERVE_TAG], SIGNATURE_NAME);
      try {
        const warmupRecords = await this.warmUp(dir, model, signature);
        return { loaded: { version, model, dir, signature }, warmupRecords };
      } catch (err) {
        model.dispose();
        throw err;
      }
    } catch (err) {
      await fs.rm(dir, { recursive: true, force: true });
      throw err;
    }
  }

  /** Frees the model's memory and its files. */
  async unload(loaded: Loaded): Promise<void> {
    loaded.model.dispose();
    await fs.rm(loaded.dir, { recursive: true, force: true });
  }

  /** Replays the warm-up records, yielding between them so the serving version keeps answering. */
  private async warmUp(dir: string, model: TFSavedModel, signature: Signature): Promise<number> {
    const requests = await readWarmupFile(dir);
    const inputNames = Object.keys(signature.inputs);
    for (const [i, request] of requests.entries()) {
      if (this.stopping()) break;
      try {
        const { columns, size } = idColumnsFromTensors(request.inputs, inputNames, Number.MAX_SAFE_INTEGER);
        scoreColumns(model, columns, size);
      } catch (err) {
        throw new Error(`warm-up record ${i} failed: ${(err as Error).message}`);
      }
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    return requests.length;
  }
}

function readSignature(metaGraphs: tf.MetaGraph[]): Signature {
  const serve = metaGraphs.find((g) => g.tags.length === 1 && g.tags[0] === SERVE_TAG);
  if (!serve) throw new Error('no MetaGraph tagged "serve"');
  const sig = serve.signatureDefs.serving_default;
  if (!sig) throw new Error('no "serving_default" signature');
  const spec = (t: tf.ModelTensorInfo): ServedTensorSpec => ({
    name: t.name,
    dtype: t.dtype,
    tfDtype: t.tfDtype ?? '',
    // tfjs-node hands over TensorShapeProto.Dim messages here despite its number[] type
    shape: (t.shape ?? []).map((d: unknown) => (typeof d === 'number' ? d : Number((d as { getSize(): number }).getSize()))),
  });
  return {
    inputs: Object.fromEntries(Object.entries(sig.inputs).map(([k, v]) => [k, spec(v)])),
    outputs: Object.fromEntries(Object.entries(sig.outputs).map(([k, v]) => [k, spec(v)])),
    methodName: PREDICT_METHOD,
  };
}
