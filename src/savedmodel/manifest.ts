/**
 * What an export wrote, small enough to pass through workflow history: each
 * file's path (relative to the export directory, '/'-separated), size and
 * SHA-256, plus the signature and variable shapes. Files are listed in
 * publish order — saved_model.pb last (see publish.ts).
 */
import type { OutputActivation } from '../ml/network/network-weights';
import type { SignatureSummary } from './signature';

export const SAVED_MODEL_FILE = 'saved_model.pb';
export const VARIABLES_DIR = 'variables';
export const CHECKPOINT_PREFIX = 'variables/variables';
export const VARIABLES_INDEX_FILE = 'variables/variables.index';
export const VARIABLES_DATA_FILE = 'variables/variables.data-00000-of-00001';

export interface ManifestFile {
  path: string;
  bytes: number;
  /** lowercase hex */
  sha256: string;
}

export interface SavedModelManifest {
  format: 'tensorflow-saved-model';
  files: ManifestFile[];
  totalBytes: number;
  signature: SignatureSummary;
  variables: { name: string; shape: number[] }[];
  outputActivation: OutputActivation;
}
