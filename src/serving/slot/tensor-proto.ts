/**
 * TensorProto ↔ the slot's columns: the gRPC Predict inputs and the warm-up
 * records carry id tensors of shape [n, 1] as DT_INT32 or DT_INT64, either in
 * tensor_content (raw little-endian bytes, what tf.make_tensor_proto writes
 * for numpy arrays) or in int_val / int64_val. Every rejection is an
 * InvalidArgument naming the input.
 */
import { DataType } from '../../savedmodel/messages';
import type { TensorProtoObject } from '../../savedmodel/warmup';
import { BadRequestError } from './predict-request';

export interface IdColumns {
  columns: Record<string, Int32Array>;
  size: number;
}

function idsOf(name: string, t: TensorProtoObject): Int32Array {
  const dims = (t.tensorShape?.dim ?? []).map((d) => Number(d.size ?? 0));
  if (dims.length !== 2 || dims[1] !== 1) {
    throw new BadRequestError(`input "${name}": expected shape [n, 1], got [${dims.join(', ')}]`);
  }
  const n = dims[0];
  if (!Number.isSafeInteger(n) || n < 0) throw new BadRequestError(`input "${name}": dimension 0 is ${n}`);
  let ids: Int32Array;
  const content = t.tensorContent && t.tensorContent.length > 0 ? Buffer.from(t.tensorContent) : undefined;
  if (t.dtype === DataType.DT_INT32) {
    if (content) {
      if (content.length !== n * 4)
        throw new BadRequestError(`input "${name}": tensor_content has ${content.length} bytes, expected ${n * 4} for ${n} int32 values`);
      ids = new Int32Array(n);
      for (let i = 0; i < n; i++) ids[i] = content.readInt32LE(i * 4);
    } else {
      ids = Int32Array.from(t.intVal ?? []);
    }
  } else if (t.dtype === DataType.DT_INT64) {
    ids = new Int32Array(n);
    if (content) {
      if (content.length !== n * 8)
        throw new BadRequestError(`input "${name}": tensor_content has ${content.length} bytes, expected ${n * 8} for ${n} int64 values`);
      for (let i = 0; i < n; i++) ids[i] = checkedId(name, i, Number(content.readBigInt64LE(i * 8)));
    } else {
      const values = t.int64Val ?? [];
      if (values.length !== n) throw new BadRequestError(`input "${name}": ${values.length} values for shape [${n}, 1]`);
      values.forEach((v, i) => (ids[i] = checkedId(name, i, Number(v))));
    }
    return ids;
  } else {
    throw new BadRequestError(`input "${name}": expects dtype DT_INT32 or DT_INT64, got ${dataTypeName(t.dtype)}`);
  }
  if (ids.length !== n) throw new BadRequestError(`input "${name}": ${ids.length} values for shape [${n}, 1]`);
  for (let i = 0; i < n; i++) if (ids[i] < 0) checkedId(name, i, ids[i]);
  return ids;
}

function checkedId(name: string, i: number, v: number): number {
  if (!Number.isInteger(v) || v < 0 || v > 0x7fffffff)
    throw new BadRequestError(`input "${name}"[${i}]: id ${v} is outside [0, 2147483647]`);
  return v;
}

function dataTypeName(dtype: number | undefined): string {
  const entry = Object.entries(DataType).find(([, v]) => v === dtype);
  return entry ? entry[0] : `dtype ${dtype ?? 0}`;
}

/** The id columns of a PredictRequest's inputs, checked against the signature's input names. */
export function idColumnsFromTensors(inputs: Record<string, TensorProtoObject>, inputNames: string[], maxRows: number): IdColumns {
  for (const k of Object.keys(inputs))
    if (!inputNames.includes(k)) throw new BadRequestError(`input "${k}" is not in the signature (expected ${inputNames.join(', ')})`);
  const columns: Record<string, Int32Array> = {};
  let size = -1;
  for (const n of inputNames) {
    const t = inputs[n];
    if (!t) throw new BadRequestError(`input "${n}" is missing (expected ${inputNames.join(', ')})`);
    const rows = Number(t.tensorShape?.dim?.[0]?.size ?? 0);
    if (rows > maxRows) throw new BadRequestError(`batch of ${rows} rows exceeds the maximum of ${maxRows} rows per predict call`);
    const ids = idsOf(n, t);
    if (ids.length === 0) throw new BadRequestError(`input "${n}" is empty`);
    if (size >= 0 && ids.length !== size)
      throw new BadRequestError(`input "${n}" has ${ids.length} rows but "${inputNames[0]}" has ${size}`);
    size = ids.length;
    columns[n] = ids;
  }
  return { columns, size };
}

/** Scores as a DT_FLOAT [n, 1] TensorProto, in tensor_content (as TF Serving answers). */
export function scoresTensor(scores: Float32Array) {
  return {
    dtype: DataType.DT_FLOAT,
    tensorShape: { dim: [{ size: scores.length }, { size: 1 }] },
    tensorContent: Buffer.from(scores.buffer, scores.byteOffset, scores.byteLength),
  };
}
