/**
 * Loads the vendored TensorFlow Serving .proto subset
 * (./proto/tensorflow_serving) with protobufjs at run time, like protos.ts
 * does for TensorFlow's: the slot's gRPC API and the warm-up records use
 * these messages. The parsed Root is cached.
 */
import * as protobuf from 'protobufjs';
import { loadProtoRoot } from './protos';

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
  const root = loadProtoRoot(ENTRY_FILES);
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
