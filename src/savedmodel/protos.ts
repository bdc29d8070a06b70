/**
 * Loads the vendored TensorFlow .proto subset (./proto) with protobufjs at run
 * time: protobufjs-cli is not a dependency, so there is no generated code.
 * The parsed Root is cached; loading costs a few milliseconds once.
 */
import * as path from 'node:path';
import * as protobuf from 'protobufjs';

/** Directory holding `tensorflow/core/...` so TensorFlow's import paths resolve as written. */
export const PROTO_ROOT = path.join(__dirname, 'proto');

const ENTRY_FILES = ['tensorflow/core/protobuf/saved_model.proto', 'tensorflow/core/protobuf/tensor_bundle.proto'];

export interface TensorflowProtos {
  root: protobuf.Root;
  SavedModel: protobuf.Type;
  MetaGraphDef: protobuf.Type;
  GraphDef: protobuf.Type;
  NodeDef: protobuf.Type;
  AttrValue: protobuf.Type;
  TensorProto: protobuf.Type;
  TensorShapeProto: protobuf.Type;
  SignatureDef: protobuf.Type;
  SaverDef: protobuf.Type;
  BundleHeaderProto: protobuf.Type;
  BundleEntryProto: protobuf.Type;
}

let cached: TensorflowProtos | undefined;

/** Parses vendored .proto files (paths relative to PROTO_ROOT) into one resolved Root. */
export function loadProtoRoot(entryFiles: readonly string[]): protobuf.Root {
  const root = new protobuf.Root();
  // TensorFlow's imports are relative to the source tree's root, not to the
  // importing file (protobufjs's default), so resolve them against PROTO_ROOT.
  root.resolvePath = (_origin: string, target: string): string => (path.isAbsolute(target) ? target : path.join(PROTO_ROOT, target));
  root.loadSync([...entryFiles], { keepCase: false });
  root.resolveAll();
  return root;
}

export function loadTensorflowProtos(): TensorflowProtos {
  if (cached) return cached;
  const root = loadProtoRoot(ENTRY_FILES);
  const type = (name: string): protobuf.Type => root.lookupType(`tensorflow.${name}`);
  cached = {
    root,
    SavedModel: type('SavedModel'),
    MetaGraphDef: type('MetaGraphDef'),
    GraphDef: type('GraphDef'),
    NodeDef: type('NodeDef'),
    AttrValue: type('AttrValue'),
    TensorProto: type('TensorProto'),
    TensorShapeProto: type('TensorShapeProto'),
    SignatureDef: type('SignatureDef'),
    SaverDef: type('SaverDef'),
    BundleHeaderProto: type('BundleHeaderProto'),
    BundleEntryProto: type('BundleEntryProto'),
  };
  return cached;
}

/**
 * Encodes a plain message object. `verify` first, so a wrongly typed field
 * fails loudly here rather than producing bytes TensorFlow rejects later.
 */
export function encodeMessage(type: protobuf.Type, message: object): Buffer {
  const problem = type.verify(message);
  if (problem) throw new Error(`invalid ${type.name}: ${problem}`);
  const bytes = type.encode(type.fromObject(message)).finish();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
