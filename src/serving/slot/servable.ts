/**
 * What a slot serves, in TF Serving's terms: a servable is one loaded version
 * of the model; each version the slot has seen has a status.
 */
import type { TFSavedModel } from '@tensorflow/tfjs-node/dist/saved_model';

export type VersionState = 'START' | 'LOADING' | 'AVAILABLE' | 'UNLOADING' | 'END';

export interface VersionStatus {
  version: number;
  state: VersionState;
  errorCode: 'OK' | 'UNKNOWN' | 'NOT_FOUND';
  errorMessage: string;
}

export interface ServedTensorSpec {
  name: string;
  dtype: string;
  tfDtype: string;
  shape: number[];
}

export interface Signature {
  inputs: Record<string, ServedTensorSpec>;
  outputs: Record<string, ServedTensorSpec>;
  methodName: string;
}

/** A loaded version: what predict and metadata calls use. */
export interface Loaded {
  version: number;
  model: TFSavedModel;
  dir: string;
  signature: Signature;
}
