/**
 * TypeScript shapes of the TensorFlow protobuf messages this exporter builds,
 * as plain objects in protobufjs's camelCase field naming. They mirror the
 * vendored subset in ./proto (field numbers live there); keeping them typed
 * here means a misspelt field is a compile error instead of a field that
 * protobufjs silently leaves out.
 */

/** tensorflow.DataType values (types.proto). */
export const DataType = {
  DT_FLOAT: 1,
  DT_INT32: 3,
  DT_STRING: 7,
  DT_INT64: 9,
} as const;
export type DataTypeValue = (typeof DataType)[keyof typeof DataType];

export interface TensorShapeMessage {
  dim?: { size: number; name?: string }[];
  unknownRank?: boolean;
}

export interface TensorMessage {
  dtype: DataTypeValue;
  tensorShape: TensorShapeMessage;
  tensorContent?: Uint8Array;
  intVal?: number[];
  stringVal?: Uint8Array[];
}

export interface AttrListMessage {
  type?: DataTypeValue[];
}

/** AttrValue: exactly one member set (a proto oneof). */
export type AttrValueMessage =
  | { s: Uint8Array }
  | { i: number }
  | { f: number }
  | { b: boolean }
  | { type: DataTypeValue }
  | { shape: TensorShapeMessage }
  | { tensor: TensorMessage }
  | { list: AttrListMessage };

export interface NodeDefMessage {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, AttrValueMessage>;
}

export interface VersionDefMessage {
  producer: number;
  minConsumer?: number;
}

export interface GraphDefMessage {
  node: NodeDefMessage[];
  versions: VersionDefMessage;
}

export interface SaverDefMessage {
  filenameTensorName: string;
  saveTensorName: string;
  restoreOpName: string;
  /** SaverDef.CheckpointFormatVersion: V2 = 2 */
  version: 2;
}

export interface TensorInfoMessage {
  name: string;
  dtype: DataTypeValue;
  tensorShape: TensorShapeMessage;
}

export interface SignatureDefMessage {
  inputs: Record<string, TensorInfoMessage>;
  outputs: Record<string, TensorInfoMessage>;
  methodName: string;
}

export interface MetaGraphDefMessage {
  metaInfoDef: { tags: string[] };
  graphDef: GraphDefMessage;
  saverDef?: SaverDefMessage;
  signatureDef: Record<string, SignatureDefMessage>;
}

export interface SavedModelMessage {
  savedModelSchemaVersion: number;
  metaGraphs: MetaGraphDefMessage[];
}

export interface BundleHeaderMessage {
  numShards: number;
  version: VersionDefMessage;
}

export interface BundleEntryMessage {
  dtype: DataTypeValue;
  shape: TensorShapeMessage;
  offset?: number;
  size: number;
  /** masked CRC32C of the tensor bytes (fixed32) */
  crc32c: number;
}
