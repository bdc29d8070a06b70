/**
 * The slot's gRPC API on its own port, as TF Serving has it (8500 beside REST
 * 8501): tensorflow.serving.PredictionService/{Predict, GetModelMetadata}
 * and tensorflow.serving.ModelService/GetModelStatus, with TF Serving's own
 * messages (the vendored protos) so its official clients work unchanged.
 * Errors carry TF Serving's status codes: INVALID_ARGUMENT for a malformed
 * request, NOT_FOUND for an unknown model or version.
 */
import * as grpc from '@grpc/grpc-js';
import type * as protobuf from 'protobufjs';
import { DataType } from '../../savedmodel/messages';
import { loadServingProtos } from '../../savedmodel/serving-protos';
import type { TensorProtoObject } from '../../savedmodel/warmup';
import type { Signature, ServedTensorSpec, VersionStatus } from './servable';
import { BadRequestError } from './predict-request';
import { ServingError, type PredictionService, type ServingCode } from './prediction-service';
import { idColumnsFromTensors, scoresTensor } from './tensor-proto';
import { SIGNATURE_NAME } from '../../savedmodel/serving-contract';

const STATE_CODES: Record<VersionStatus['state'], number> = { START: 10, LOADING: 20, AVAILABLE: 30, UNLOADING: 40, END: 50 };
const ERROR_CODES: Record<VersionStatus['errorCode'], number> = { OK: 0, UNKNOWN: 2, NOT_FOUND: 5 };

/** grpc-js service definition from a protobufjs Service: requests decode to plain objects (longs as numbers). */
export function serviceDefinition(service: protobuf.Service): grpc.ServiceDefinition {
  const definition: Record<string, grpc.MethodDefinition<object, object>> = {};
  for (const method of service.methodsArray) {
    method.resolve();
    const req = method.resolvedRequestType!;
    const res = method.resolvedResponseType!;
    const encode = (type: protobuf.Type) => (message: object) => {
      const bytes = type.encode(type.fromObject(message)).finish();
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    };
    const decode = (type: protobuf.Type) => (bytes: Buffer) =>
      type.toObject(type.decode(bytes), { longs: Number, enums: Number, defaults: false });
    definition[method.name] = {
      path: `/${service.fullName.replace(/^\./, '')}/${method.name}`,
      requestStream: false,
      responseStream: false,
      requestSerialize: encode(req),
      requestDeserialize: decode(req),
      responseSerialize: encode(res),
      responseDeserialize: decode(res),
    };
  }
  return definition;
}

interface ModelSpecObject {
  name?: string;
  version?: { value?: number };
  versionLabel?: string;
  signatureName?: string;
}

class RpcError extends Error {
  constructor(
    readonly code: grpc.status,
    message: string,
  ) {
    super(message);
  }
}

function tensorInfo(t: ServedTensorSpec) {
  const dtype = (DataType as Record<string, number>)[t.tfDtype] ?? (t.dtype === 'float32' ? DataType.DT_FLOAT : DataType.DT_INT32);
  return { name: t.name, dtype, tensorShape: { dim: t.shape.map((size) => ({ size })) } };
}

function signatureDef(signature: Signature) {
  const map = (m: Record<string, ServedTensorSpec>) => Object.fromEntries(Object.entries(m).map(([k, v]) => [k, tensorInfo(v)]));
  return { inputs: map(signature.inputs), outputs: map(signature.outputs), methodName: signature.methodName };
}

export interface GrpcApiOptions {
  service: PredictionService;
  maxRows: number;
}

const GRPC_CODES: Record<ServingCode, grpc.status> = {
  INVALID_ARGUMENT: grpc.status.INVALID_ARGUMENT,
  NOT_FOUND: grpc.status.NOT_FOUND,
  INTERNAL: grpc.status.INTERNAL,
};

/** TF Serving's gRPC status for an error. */
function grpcStatusOf(err: unknown): grpc.status {
  if (err instanceof RpcError) return err.code;
  if (err instanceof ServingError) return GRPC_CODES[err.code];
  if (err instanceof BadRequestError) return err.status === 404 ? grpc.status.NOT_FOUND : grpc.status.INVALID_ARGUMENT;
  return grpc.status.INTERNAL;
}

function unary<Req, Res>(handler: (request: Req) => Res | Promise<Res>): grpc.UntypedHandleCall {
  return (call: grpc.ServerUnaryCall<Req, Res>, callback: grpc.sendUnaryData<Res>) => {
    Promise.resolve()
      .then(() => handler(call.request))
      .then(
        (response) => callback(null, response),
        (err: unknown) => callback({ code: grpcStatusOf(err), details: (err as Error).message }),
      );
  };
}

export function createGrpcHandlers(opts: GrpcApiOptions) {
  const { service } = opts;
  /** The model spec's name and version, refusing what this slot does not serve. */
  const specOf = (spec: ModelSpecObject | undefined): { name: string; version?: number } => {
    if (!spec) throw new RpcError(grpc.status.INVALID_ARGUMENT, 'Missing ModelSpec');
    if (spec.versionLabel)
      throw new RpcError(grpc.status.INVALID_ARGUMENT, `version labels are not served by this slot (got "${spec.versionLabel}")`);
    const signatureName = spec.signatureName || SIGNATURE_NAME;
    if (signatureName !== SIGNATURE_NAME) {
      throw new RpcError(grpc.status.INVALID_ARGUMENT, `Serving signature name: "${signatureName}" not found in signature def`);
    }
    return { name: spec.name ?? '', version: spec.version?.value };
  };
  const servableFor = (spec: ModelSpecObject | undefined) => {
    const { name, version } = specOf(spec);
    return service.servable(name, version);
  };

  const predict = async (request: { modelSpec?: ModelSpecObject; inputs?: Record<string, TensorProtoObject>; outputFilter?: string[] }) => {
    let spec: { name: string; version?: number };
    try {
      spec = specOf(request.modelSpec);
    } catch (err) {
      service.refused('grpc', err);
      throw err;
    }
    const prediction = await service.predict('grpc', spec.name, spec.version, (signature) => {
      const outputNames = Object.keys(signature.outputs);
      for (const f of request.outputFilter ?? []) {
        if (!outputNames.includes(f))
          throw new BadRequestError(`output_filter "${f}" is not an output of the signature (${outputNames.join(', ')})`);
      }
      return idColumnsFromTensors(request.inputs ?? {}, Object.keys(signature.inputs), opts.maxRows);
    });
    const outputNames = Object.keys(prediction.signature.outputs);
    return {
      modelSpec: { name: service.name, version: { value: prediction.version }, signatureName: SIGNATURE_NAME },
      outputs: { [outputNames[0]]: scoresTensor(prediction.scores) },
    };
  };

  const getModelMetadata = (request: { modelSpec?: ModelSpecObject; metadataField?: string[] }) => {
    const fields = request.metadataField ?? [];
    if (fields.length === 0)
      throw new RpcError(grpc.status.INVALID_ARGUMENT, 'GetModelMetadataRequest must specify at least one metadata_field');
    const unsupported = fields.find((f) => f !== 'signature_def');
    if (unsupported) throw new RpcError(grpc.status.INVALID_ARGUMENT, `Metadata field ${unsupported} is not supported`);
    const servable = servableFor(request.modelSpec);
    const { SignatureDefMap } = loadServingProtos();
    const value = SignatureDefMap.encode(
      SignatureDefMap.fromObject({ signatureDef: { serving_default: signatureDef(servable.signature) } }),
    ).finish();
    return {
      modelSpec: { name: service.name, version: { value: servable.version } },
      // protobufjs's bundled google.protobuf.Any keeps its snake_case field names
      metadata: { signature_def: { type_url: 'type.googleapis.com/tensorflow.serving.SignatureDefMap', value } },
    };
  };

  const getModelStatus = (request: { modelSpec?: ModelSpecObject }) => {
    const spec = request.modelSpec;
    if (!spec) throw new RpcError(grpc.status.INVALID_ARGUMENT, 'Missing ModelSpec');
    return {
      modelVersionStatus: service.statuses(spec.name ?? '', spec.version?.value).map((s) => ({
        version: s.version,
        state: STATE_CODES[s.state],
        status: { errorCode: ERROR_CODES[s.errorCode], errorMessage: s.errorMessage },
      })),
    };
  };

  return {
    prediction: { Predict: unary(predict), GetModelMetadata: unary(getModelMetadata) },
    model: { GetModelStatus: unary(getModelStatus) },
  };
}

/** Starts the gRPC server on host:port (0 = any free port); resolves with the bound port. */
export async function startGrpcServer(
  host: string,
  port: number,
  maxMessageBytes: number,
  opts: GrpcApiOptions,
): Promise<{ port: number; server: grpc.Server }> {
  const { PredictionService, ModelService } = loadServingProtos();
  const server = new grpc.Server({
    'grpc.max_receive_message_length': maxMessageBytes,
    'grpc.max_send_message_length': -1,
  });
  const handlers = createGrpcHandlers(opts);
  server.addService(serviceDefinition(PredictionService), handlers.prediction);
  server.addService(serviceDefinition(ModelService), handlers.model);
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${host}:${port}`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return { port: bound, server };
}
