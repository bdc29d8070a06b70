/**
 * exportSavedModel: loads the candidate's tfjs model from MinIO, writes the
 * TensorFlow SavedModel locally (no Python), publishes it to the standby
 * slot at the version the workflow chose, and keeps the lineage (tfjs model,
 * metadata with table sizes and popularity, metrics, loss plot) beside it.
 * Idempotent: a retry with the same candidate resumes or finds it complete.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure, Context } from '@temporalio/activity';
import * as tf from '@tensorflow/tfjs-node';
import type { io } from '@tensorflow/tfjs-core';
import { extractWeights } from '../ml';
import { decodeDotProductWeights } from '../ml/dot-weights';
import { publishSavedModel, VersionExistsError } from '../store';
import { exportSavedModel } from '../savedmodel';
import { publishLineage } from '../store/lineage';
import type { ExportableWeights } from '../savedmodel/export';
import type { CandidateRef, ExportRef } from '../workflows/types';
import type { ActivityDeps } from './deps';
import { readCandidate, type StoredCandidate } from '../store/candidates';
import { sha256Hex } from '../digest/sha256';
import { FailureType } from '../failure-types';

export function exportActivities(deps: ActivityDeps) {
  return {
    async exportSavedModel(input: { candidate: CandidateRef; slot: string; version: number }): Promise<ExportRef> {
      const ctx = Context.current();
      const started = Date.now();
      const { bucket, prefix } = input.candidate;
      const candidate = await decodeCandidate(await readCandidate(deps.minio, bucket, prefix));
      if (candidate.digest !== input.candidate.digest) {
        throw ApplicationFailure.nonRetryable(`candidate ${prefix} changed (weights digest mismatch)`, FailureType.BadInput);
      }
      const { weights, metadata, metrics, lossSvg, tfjsModel } = candidate;

      const dir = await fs.mkdtemp(path.join(os.tmpdir(), `export-${input.slot}-${input.version}-`));
      try {
        const out = path.join(dir, 'model');
        const manifest = await exportSavedModel(weights, out);
        ctx.heartbeat({ exported: manifest.totalBytes });
        const published = await publishSavedModel(deps.minio, {
          bucket: deps.config.buckets.models,
          slot: input.slot,
          dir: out,
          manifest,
          version: input.version,
          onProgress: (e) => ctx.heartbeat(e),
        }).catch((err: unknown) => {
          if (err instanceof VersionExistsError) throw ApplicationFailure.nonRetryable(err.message, FailureType.VersionExists);
          throw err;
        });
        await publishLineage(deps.minio, {
          bucket: deps.config.buckets.models,
          slot: input.slot,
          version: published.version,
          metadata: JSON.parse(metadata.toString('utf8')),
          metrics: JSON.parse(metrics.toString('utf8')),
          ...(lossSvg && { lossSvg }),
          ...(tfjsModel && { tfjsModel }),
        });
        const pb = manifest.files.find((f) => f.path === 'saved_model.pb');
        return {
          slot: input.slot,
          version: published.version,
          bucket: published.bucket,
          prefix: published.prefix,
          digest: pb?.sha256 ?? '',
          bytes: manifest.totalBytes,
          seconds: (Date.now() - started) / 1000,
        };
      } finally {
        await fs.rm(dir, { recursive: true, force: true });
      }
    },
  };
}

interface Candidate {
  weights: ExportableWeights;
  /** sha256 of the stored weights file (what trainModel put in CandidateRef.digest) */
  digest: string;
  metadata: Buffer;
  metrics: Buffer;
  lossSvg?: Buffer;
  /** the MLP family's tfjs model, kept in the lineage */
  tfjsModel?: { modelJson: Buffer; weightsBin: Buffer };
}

/** Decodes a stored candidate of either family: the linear dot-product tables, or a tfjs model (seed/implicit). */
async function decodeCandidate(stored: StoredCandidate): Promise<Candidate> {
  const { metadata, metrics } = stored;
  if (stored.family === 'dot') {
    return { weights: decodeDotProductWeights(stored.header, stored.weights), digest: sha256Hex(stored.weights), metadata, metrics };
  }
  const { modelJson, weightsBin, lossSvg } = stored;
  const json = JSON.parse(modelJson.toString('utf8')) as {
    modelTopology: io.ModelArtifacts['modelTopology'];
    weightsManifest: { weights: io.WeightsManifestEntry[] }[];
  };
  const model = await tf.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: json.modelTopology,
      weightSpecs: json.weightsManifest.flatMap((g) => g.weights),
      weightData: weightsBin.buffer.slice(weightsBin.byteOffset, weightsBin.byteOffset + weightsBin.byteLength),
    }),
  );
  try {
    const tfjsModel = { modelJson, weightsBin };
    return { weights: extractWeights(model), digest: sha256Hex(weightsBin), metadata, metrics, lossSvg, tfjsModel };
  } finally {
    model.dispose();
  }
}
