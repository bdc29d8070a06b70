"""TF Serving's official Python client (tensorflow-serving-api) against a slot.

Usage:
  tfs_client.py grpc HOST:PORT MODEL VERSION   -> Predict, GetModelMetadata, GetModelStatus
  tfs_client.py warmup FILE                     -> parse a warm-up file as TFRecord of PredictionLog

Prints one JSON object on stdout for the calling test to check.
"""
import json
import sys

import grpc
import numpy as np
import tensorflow as tf
from tensorflow_serving.apis import (get_model_metadata_pb2, get_model_status_pb2, model_service_pb2_grpc,
                                     predict_pb2, prediction_log_pb2, prediction_service_pb2_grpc)


def call_grpc(address, model, version):
    channel = grpc.insecure_channel(address)
    prediction = prediction_service_pb2_grpc.PredictionServiceStub(channel)
    models = model_service_pb2_grpc.ModelServiceStub(channel)
    out = {}

    request = predict_pb2.PredictRequest()
    request.model_spec.name = model
    request.model_spec.signature_name = 'serving_default'
    users = np.array([[0], [3], [3]], dtype=np.int32)
    products = np.array([[0], [17], [2]], dtype=np.int32)
    request.inputs['users'].CopyFrom(tf.make_tensor_proto(users))
    request.inputs['products'].CopyFrom(tf.make_tensor_proto(products))
    response = prediction.Predict(request, timeout=10)
    scores = tf.make_ndarray(response.outputs['predictions'])
    out['predict'] = {'shape': list(scores.shape), 'dtype': str(scores.dtype), 'scores': scores[:, 0].tolist(),
                      'model_spec': {'name': response.model_spec.name, 'version': response.model_spec.version.value}}

    # int64 ids in int64_val (not tensor_content), at an explicit version
    request64 = predict_pb2.PredictRequest()
    request64.model_spec.name = model
    request64.model_spec.version.value = version
    request64.inputs['users'].CopyFrom(tf.make_tensor_proto([[3]], dtype=tf.int64))
    request64.inputs['products'].int64_val.append(17)
    request64.inputs['products'].dtype = tf.int64.as_datatype_enum
    request64.inputs['products'].tensor_shape.dim.add().size = 1
    request64.inputs['products'].tensor_shape.dim.add().size = 1
    out['predict_int64'] = tf.make_ndarray(prediction.Predict(request64, timeout=10).outputs['predictions'])[:, 0].tolist()

    errors = {}
    for what, name, users_value in [('unknown_model', 'nope', [[1]]), ('bad_shape', model, [1, 2])]:
        bad = predict_pb2.PredictRequest()
        bad.model_spec.name = name
        bad.inputs['users'].CopyFrom(tf.make_tensor_proto(np.array(users_value, dtype=np.int32)))
        bad.inputs['products'].CopyFrom(tf.make_tensor_proto(np.array(users_value, dtype=np.int32)))
        try:
            prediction.Predict(bad, timeout=10)
            errors[what] = 'OK'
        except grpc.RpcError as e:
            errors[what] = {'code': e.code().name, 'details': e.details()}
    out['errors'] = errors

    meta_request = get_model_metadata_pb2.GetModelMetadataRequest()
    meta_request.model_spec.name = model
    meta_request.metadata_field.append('signature_def')
    meta = prediction.GetModelMetadata(meta_request, timeout=10)
    sigs = get_model_metadata_pb2.SignatureDefMap()
    meta.metadata['signature_def'].Unpack(sigs)
    sig = sigs.signature_def['serving_default']
    out['metadata'] = {
        'version': meta.model_spec.version.value,
        'method_name': sig.method_name,
        'inputs': {k: {'dtype': tf.dtypes.as_dtype(v.dtype).name, 'shape': [d.size for d in v.tensor_shape.dim]} for k, v in sig.inputs.items()},
        'outputs': {k: {'dtype': tf.dtypes.as_dtype(v.dtype).name, 'shape': [d.size for d in v.tensor_shape.dim]} for k, v in sig.outputs.items()},
    }

    status_request = get_model_status_pb2.GetModelStatusRequest()
    status_request.model_spec.name = model
    status = models.GetModelStatus(status_request, timeout=10)
    out['status'] = [{'version': s.version, 'state': get_model_status_pb2.ModelVersionStatus.State.Name(s.state),
                      'error_code': s.status.error_code, 'error_message': s.status.error_message}
                     for s in status.model_version_status]
    return out


def parse_warmup(path):
    records = []
    for raw in tf.data.TFRecordDataset(path):  # checks the TFRecord framing and both CRCs
        log = prediction_log_pb2.PredictionLog.FromString(raw.numpy())
        assert log.WhichOneof('log_type') == 'predict_log', log.WhichOneof('log_type')
        request = log.predict_log.request
        users = tf.make_ndarray(request.inputs['users'])
        products = tf.make_ndarray(request.inputs['products'])
        records.append({'signature_name': request.model_spec.signature_name, 'users_shape': list(users.shape),
                        'products_shape': list(products.shape), 'dtype': str(users.dtype),
                        'one_user': bool((users == users[0, 0]).all()), 'max_user': int(users.max()), 'max_product': int(products.max())})
    return {'records': records}


if __name__ == '__main__':
    if sys.argv[1] == 'grpc':
        result = call_grpc(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif sys.argv[1] == 'warmup':
        result = parse_warmup(sys.argv[2])
    else:
        raise SystemExit(f'unknown command {sys.argv[1]}')
    print(json.dumps(result))
