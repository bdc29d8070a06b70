/**
 * A run's trained candidate, stored between trainModel and exportSavedModel
 * under `candidates/<workflowId>/<runId>/` (src/store/layout.ts). Two
 * families: the linear default's dot-product tables, and the network
 * family's tfjs model. A retried training overwrites its run's candidate
 * whole; the export checks the weights' digest against the reference.
 */
import type { Client } from 'minio';
import { getObjectBuffer, getOptionalObject } from '../storage/objects';
import { candidateFileKey } from './layout';

/** Files of every candidate, and of the network family (tfjs model + loss plot). */
export const CANDIDATE_FILES = {
  modelJson: 'model.json',
  weights: 'weights.bin',
  metadata: 'metadata.json',
  metrics: 'metrics.json',
  loss: 'loss.svg',
};
/** Candidate files of the linear (dot-product) family: header + the two tables. */
export const DOT_CANDIDATE_FILES = { header: 'dot-model.json', weights: 'dot-weights.bin' };

export interface CandidateFile {
  name: string;
  body: Buffer;
  contentType: string;
}

/** Writes a candidate's files under `prefix` (the weights first: metadata and metrics describe them). */
export async function writeCandidate(client: Client, bucket: string, prefix: string, files: readonly CandidateFile[]): Promise<void> {
  for (const f of files) {
    await client.putObject(bucket, candidateFileKey(prefix, f.name), f.body, f.body.length, { 'Content-Type': f.contentType });
  }
}

export type StoredCandidate =
  | { family: 'dot'; header: Buffer; weights: Buffer; metadata: Buffer; metrics: Buffer }
  | { family: 'network'; modelJson: Buffer; weightsBin: Buffer; metadata: Buffer; metrics: Buffer; lossSvg: Buffer };

/** Reads a candidate's bytes; which family it is follows from the dot-product header's presence. */
export async function readCandidate(client: Client, bucket: string, prefix: string): Promise<StoredCandidate> {
  const get = (name: string) => getObjectBuffer(client, bucket, candidateFileKey(prefix, name));
  const header = await getOptionalObject(client, bucket, candidateFileKey(prefix, DOT_CANDIDATE_FILES.header));
  if (header) {
    const [weights, metadata, metrics] = await Promise.all([
      get(DOT_CANDIDATE_FILES.weights),
      get(CANDIDATE_FILES.metadata),
      get(CANDIDATE_FILES.metrics),
    ]);
    return { family: 'dot', header, weights, metadata, metrics };
  }
  const [modelJson, weightsBin, metadata, metrics, lossSvg] = await Promise.all([
    get(CANDIDATE_FILES.modelJson),
    get(CANDIDATE_FILES.weights),
    get(CANDIDATE_FILES.metadata),
    get(CANDIDATE_FILES.metrics),
    get(CANDIDATE_FILES.loss),
  ]);
  return { family: 'network', modelJson, weightsBin, metadata, metrics, lossSvg };
}
