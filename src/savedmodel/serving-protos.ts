/**
 * Loads the vendored TensorFlow Serving .proto subset
 * (./proto/tensorflow_serving) with protobufjs at run time, like protos.ts
 * does for TensorFlow's: the slot's gRPC API and the warm-up records use
 * these messages. The parsed Root is cached.
 */
import * as path from 'node:path';
import * as protobuf from 'protobufjs';
import { PROTO_ROOT } from './protos';

const ENTRY_FILES = [
  'tensorflow_serving/apis/prediction_service.proto',
  'tensorflow_serving/apis/model_service.proto',
  'tensorflow_serving/apis/prediction_log.proto',
];

export interface ServingProtos {
  root: protobuf.Root;
  PredictRequest: protobuf.Type;
  PredictResponse: protobuf.Type;
  GetModelMetadataRequest: protobuf.Type;
  GetModelMetadataResponse: protobuf.Type;
  SignatureDefMap: protobuf.Type;
  GetModelStatusRequest: protobuf.Type;
  GetModelStatusResponse: protobuf.Type;
  PredictionLog: protobuf.Type;
  PredictionService: protobuf.Service;
  ModelService: protobuf.Service;
}

let cached: ServingProtos | undefined;

export function loadServingProtos(): ServingProtos {
  if (cached) return cached;
  const root = new protobuf.Root();
  root.resolvePath = (_origin: string, target: string): string =>
    path.isAbsolute(target) ? target : path.join(PROTO_ROOT, target);
  root.loadSync(ENTRY_FILES, { keepCase: false });
  root.resolveAll();
  const type = (name: string): protobuf.Type => root.lookupType(`tensorflow.serving.${name}`);
  cached = {
    root,
    PredictRequest: type('PredictRequest'),
    PredictResponse: type('PredictResponse'),
    GetModelMetadataRequest: type('GetModelMetadataRequest'),
    GetModelMetadataResponse: type('GetModelMetadataResponse'),
    SignatureDefMap: type('SignatureDefMap'),
    GetModelStatusRequest: type('GetModelStatusRequest'),
    GetModelStatusResponse: type('GetModelStatusResponse'),
    PredictionLog: type('PredictionLog'),
    PredictionService: root.lookupService('tensorflow.serving.PredictionService'),
    ModelService: root.lookupService('tensorflow.serving.ModelService'),
  };
  return cached;
}
