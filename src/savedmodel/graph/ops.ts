/**
 * NodeDef builders, one per TensorFlow op the exported graph uses. Each
 * writes only attributes that TensorFlow runtimes have known for years (from
 * tensorflow/core/ops/*.cc): a loader fills in missing attributes that have
 * defaults but rejects one it does not know ("NodeDef mentions attr ... not
 * in Op"), so newer attributes (MatMul.grad_a/grad_b, VarHandleOp.debug_name
 * and allowed_devices, ResourceGather.batch_dims, AssignVariableOp.
 * validate_shape) are deliberately left out to keep older TF Serving images
 * able to load the model.
 */
import type { AttrValueMessage, DataTypeValue, NodeDefMessage } from '../messages';
import { DataType } from '../messages';
import { boolAttr, intAttr, shapeAttr, stringAttr, tensorAttr, typeAttr, typeListAttr } from './attrs';
import type { TensorMessage } from '../messages';

const F = DataType.DT_FLOAT;

function node(name: string, op: string, input: readonly string[], attr: Record<string, AttrValueMessage>): NodeDefMessage {
  // Sorted attribute keys: deterministic bytes, as TensorFlow's deterministic serialisation.
  const sorted: Record<string, AttrValueMessage> = {};
  for (const key of Object.keys(attr).sort()) sorted[key] = attr[key];
  const out: NodeDefMessage = { name, op, attr: sorted };
  if (input.length > 0) out.input = [...input];
  return out;
}

/** Reference to output `index` of node `name` ("name" for output 0, as TensorFlow writes it). */
export const output = (name: string, index = 0): string => (index === 0 ? name : `${name}:${index}`);
export const control = (name: string): string => `^${name}`;

export const placeholder = (name: string, dtype: DataTypeValue, dims: readonly number[]): NodeDefMessage =>
  node(name, 'Placeholder', [], { dtype: typeAttr(dtype), shape: shapeAttr(dims) });

export const placeholderWithDefault = (name: string, input: string, dtype: DataTypeValue, dims: readonly number[]): NodeDefMessage =>
  node(name, 'PlaceholderWithDefault', [input], { dtype: typeAttr(dtype), shape: shapeAttr(dims) });

export const constant = (name: string, value: TensorMessage): NodeDefMessage =>
  node(name, 'Const', [], { dtype: typeAttr(value.dtype), value: tensorAttr(value) });

/** A resource variable's handle; shared_name = node name keeps variables distinct in a shared session. */
export const varHandle = (name: string, dims: readonly number[]): NodeDefMessage =>
  node(name, 'VarHandleOp', [], {
    container: stringAttr(''),
    dtype: typeAttr(F),
    shape: shapeAttr(dims),
    shared_name: stringAttr(name),
  });

export const readVariable = (name: string, handle: string): NodeDefMessage =>
  node(name, 'ReadVariableOp', [handle], { dtype: typeAttr(F) });

export const assignVariable = (name: string, handle: string, value: string): NodeDefMessage =>
  node(name, 'AssignVariableOp', [handle, value], { dtype: typeAttr(F) });

/** Row lookup in a resource variable; validate_indices rejects out-of-range ids with an error. */
export const resourceGather = (name: string, handle: string, ids: string, idType: DataTypeValue): NodeDefMessage =>
  node(name, 'ResourceGather', [handle, ids], {
    Tindices: typeAttr(idType),
    dtype: typeAttr(F),
    validate_indices: boolAttr(true),
  });

export const reshape = (name: string, tensor: string, shape: string): NodeDefMessage =>
  node(name, 'Reshape', [tensor, shape], { T: typeAttr(F), Tshape: typeAttr(DataType.DT_INT32) });

export const concatV2 = (name: string, values: readonly string[], axis: string): NodeDefMessage =>
  node(name, 'ConcatV2', [...values, axis], { N: intAttr(values.length), T: typeAttr(F), Tidx: typeAttr(DataType.DT_INT32) });

export const matMul = (name: string, a: string, b: string): NodeDefMessage =>
  node(name, 'MatMul', [a, b], { T: typeAttr(F), transpose_a: boolAttr(false), transpose_b: boolAttr(false) });

export const biasAdd = (name: string, value: string, bias: string): NodeDefMessage =>
  node(name, 'BiasAdd', [value, bias], { T: typeAttr(F), data_format: stringAttr('NHWC') });

export const relu = (name: string, x: string): NodeDefMessage => node(name, 'Relu', [x], { T: typeAttr(F) });

export const sigmoid = (name: string, x: string): NodeDefMessage => node(name, 'Sigmoid', [x], { T: typeAttr(F) });

export const identity = (name: string, x: string, dtype: DataTypeValue = F, controls: readonly string[] = []): NodeDefMessage =>
  node(name, 'Identity', [x, ...controls.map(control)], { T: typeAttr(dtype) });

export const noOp = (name: string, controls: readonly string[]): NodeDefMessage => node(name, 'NoOp', controls.map(control), {});

/** Reads the listed tensors of a V2 checkpoint; output i is tensor_names[i]. */
export const restoreV2 = (name: string, prefix: string, tensorNames: string, shapeAndSlices: string, count: number): NodeDefMessage =>
  node(name, 'RestoreV2', [prefix, tensorNames, shapeAndSlices], { dtypes: typeListAttr(new Array<DataTypeValue>(count).fill(F)) });

export const saveV2 = (
  name: string,
  prefix: string,
  tensorNames: string,
  shapeAndSlices: string,
  tensors: readonly string[],
): NodeDefMessage =>
  node(name, 'SaveV2', [prefix, tensorNames, shapeAndSlices, ...tensors], {
    dtypes: typeListAttr(new Array<DataTypeValue>(tensors.length).fill(F)),
  });

export const mul = (name: string, a: string, b: string): NodeDefMessage => node(name, 'Mul', [a, b], { T: typeAttr(F) });

/** Sum over `axis` (an int32 tensor node). */
export const sum = (name: string, x: string, axis: string, keepDims: boolean): NodeDefMessage =>
  node(name, 'Sum', [x, axis], { T: typeAttr(F), Tidx: typeAttr(DataType.DT_INT32), keep_dims: boolAttr(keepDims) });
