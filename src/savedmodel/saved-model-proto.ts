/**
 * Encodes `saved_model.pb`: one MetaGraphDef tagged `serve` with the graph,
 * the saver and the serving signature. No object_graph_def, so TensorFlow's
 * Python loader takes its TF1 path, which is what this graph is; no init op
 * (loaders run one only if it is declared).
 */
import type { GraphDefMessage, SavedModelMessage, SaverDefMessage } from './messages';
import { encodeMessage, loadTensorflowProtos } from './protos';
import { signatureDefMessage, type SignatureSummary } from './signature';

export function encodeSavedModel(graphDef: GraphDefMessage, saverDef: SaverDefMessage | undefined, signature: SignatureSummary): Buffer {
  const message: SavedModelMessage = {
    savedModelSchemaVersion: 1,
    metaGraphs: [
      {
        metaInfoDef: { tags: signature.tags },
        graphDef,
        ...(saverDef ? { saverDef } : {}),
        signatureDef: { [signature.name]: signatureDefMessage(signature) },
      },
    ],
  };
  return encodeMessage(loadTensorflowProtos().SavedModel, message);
}
