/**
 * The serving contract of the exported model (docs/design.md "SavedModel
 * contract"): tag `serve`, signature `serving_default` with method
 * `tensorflow/serving/predict`, integer inputs `users` and `products` of
 * shape [-1,1] and a float32 output `predictions` of shape [-1,1].
 *
 * Id dtype: int32 by default. It is what TensorFlow.js tensors hold natively
 * (tfjs-node feeds an int32 signature input without conversion; for an int64
 * one it re-encodes every request), it was checked end to end with
 * TensorFlow's loaders, TF Serving's REST API accepts JSON numbers for either,
 * and an embedding table cannot have 2^31 rows anyway. int64 is available
 * for clients that must send 64-bit ids as binary tensors (gRPC
 * TensorProto); ids beyond the table are rejected by the lookup either way.
 */
import { DataType, type DataTypeValue, type SignatureDefMessage, type TensorInfoMessage } from './messages';
import { shapeOf } from './graph/attrs';

export type IdDtype = 'int32' | 'int64';
export type SpecDtype = IdDtype | 'float32';

import { PREDICT_METHOD, PREDICTIONS_OUTPUT, PRODUCTS_INPUT, SERVE_TAG, SIGNATURE_NAME, USERS_INPUT } from './serving-contract';

export { PREDICT_METHOD, PREDICTIONS_OUTPUT, PRODUCTS_INPUT, SERVE_TAG, SIGNATURE_NAME, USERS_INPUT };

export interface TensorSpec {
  /** signature key, as clients name it */
  key: string;
  /** graph tensor, "node:0" */
  tensorName: string;
  dtype: SpecDtype;
  /** -1 = any size (the batch) */
  shape: number[];
}

export interface SignatureSummary {
  tags: string[];
  name: string;
  methodName: string;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
}

export function idDataType(idDtype: IdDtype): DataTypeValue {
  return idDtype === 'int64' ? DataType.DT_INT64 : DataType.DT_INT32;
}

const specDataType = (dtype: SpecDtype): DataTypeValue => (dtype === 'float32' ? DataType.DT_FLOAT : idDataType(dtype));

export function servingSignature(idDtype: IdDtype): SignatureSummary {
  const spec = (key: string, dtype: SpecDtype): TensorSpec => ({ key, tensorName: `${key}:0`, dtype, shape: [-1, 1] });
  return {
    tags: [SERVE_TAG],
    name: SIGNATURE_NAME,
    methodName: PREDICT_METHOD,
    inputs: [spec(USERS_INPUT, idDtype), spec(PRODUCTS_INPUT, idDtype)],
    outputs: [spec(PREDICTIONS_OUTPUT, 'float32')],
  };
}

export function signatureDefMessage(summary: SignatureSummary): SignatureDefMessage {
  const infos = (specs: TensorSpec[]): Record<string, TensorInfoMessage> => {
    const out: Record<string, TensorInfoMessage> = {};
    for (const s of [...specs].sort((a, b) => (a.key < b.key ? -1 : 1))) {
      out[s.key] = { name: s.tensorName, dtype: specDataType(s.dtype), tensorShape: shapeOf(s.shape) };
    }
    return out;
  };
  return { inputs: infos(summary.inputs), outputs: infos(summary.outputs), methodName: summary.methodName };
}
