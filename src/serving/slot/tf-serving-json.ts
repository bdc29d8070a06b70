/** Response bodies in TF Serving's REST JSON shapes. */
import type { Signature, ServedTensorSpec, VersionStatus } from './servable';

export function versionStatusBody(statuses: VersionStatus[]) {
  return {
    model_version_status: statuses.map((s) => ({
      version: String(s.version),
      state: s.state,
      status: { error_code: s.errorCode, error_message: s.errorMessage },
    })),
  };
}

function tensorInfo(t: ServedTensorSpec) {
  return {
    dtype: t.tfDtype || `DT_${t.dtype.toUpperCase()}`,
    tensor_shape: { dim: t.shape.map((size) => ({ size: String(size), name: '' })), unknown_rank: false },
    name: t.name,
  };
}

export function metadataBody(name: string, version: number, signature: Signature) {
  const map = (m: Record<string, ServedTensorSpec>) => Object.fromEntries(Object.entries(m).map(([k, v]) => [k, tensorInfo(v)]));
  return {
    model_spec: { name, signature_name: '', version: String(version) },
    metadata: {
      signature_def: {
        signature_def: {
          serving_default: {
            inputs: map(signature.inputs),
            outputs: map(signature.outputs),
            method_name: signature.methodName,
            defaults: {},
          },
        },
      },
    },
  };
}

export function notFound(name: string, version?: number): string {
  return version === undefined
    ? `Servable not found for request: Latest(${name})`
    : `Servable not found for request: Specific(${name}, ${version})`;
}

/** TF Serving's NOT_FOUND for a status request (GetModelStatusImpl). */
export function modelStatusNotFound(name: string, version?: number): string {
  return version === undefined ? `Could not find any versions of model ${name}` : `Could not find version ${version} of model ${name}`;
}
