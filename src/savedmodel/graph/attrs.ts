/**
 * Constructors for NodeDef attribute values and small constant tensors.
 * Shapes use -1 for an unknown dimension (the batch).
 */
import type { AttrValueMessage, DataTypeValue, TensorMessage, TensorShapeMessage } from '../messages';
import { DataType } from '../messages';

export function shapeOf(dims: readonly number[]): TensorShapeMessage {
  // A scalar is a present-but-empty TensorShapeProto (no `dim`), not an absent one.
  return dims.length === 0 ? {} : { dim: dims.map((size) => ({ size })) };
}

export const typeAttr = (type: DataTypeValue): AttrValueMessage => ({ type });
export const typeListAttr = (types: readonly DataTypeValue[]): AttrValueMessage => ({ list: { type: [...types] } });
export const shapeAttr = (dims: readonly number[]): AttrValueMessage => ({ shape: shapeOf(dims) });
export const stringAttr = (value: string): AttrValueMessage => ({ s: Buffer.from(value, 'utf8') });
export const boolAttr = (b: boolean): AttrValueMessage => ({ b });
export const intAttr = (i: number): AttrValueMessage => ({ i });
export const tensorAttr = (tensor: TensorMessage): AttrValueMessage => ({ tensor });

export function int32Tensor(dims: readonly number[], values: readonly number[]): TensorMessage {
  checkCount(dims, values.length);
  if (dims.length === 0) return { dtype: DataType.DT_INT32, tensorShape: shapeOf(dims), intVal: [...values] };
  const content = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => content.writeInt32LE(v, i * 4));
  return { dtype: DataType.DT_INT32, tensorShape: shapeOf(dims), tensorContent: content };
}

export function stringTensor(dims: readonly number[], values: readonly string[]): TensorMessage {
  checkCount(dims, values.length);
  return { dtype: DataType.DT_STRING, tensorShape: shapeOf(dims), stringVal: values.map((v) => Buffer.from(v, 'utf8')) };
}

function checkCount(dims: readonly number[], count: number): void {
  const expected = dims.reduce((n, d) => n * d, 1);
  if (expected !== count) throw new Error(`tensor of shape ${JSON.stringify(dims)} needs ${expected} values, got ${count}`);
}
