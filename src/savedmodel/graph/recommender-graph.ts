/**
 * The complete GraphDef of the exported recommender: input placeholders,
 * resource variables (and a read of each), the forward pass ending in
 * `predictions`, and the saver subgraph that restores the variables from
 * the checkpoint at load time.
 */
import type { GraphDefMessage, NodeDefMessage, SaverDefMessage } from '../messages';
import type { NetworkWeights } from '../../ml/network/network-weights';
import type { CheckpointTensor } from '../checkpoint/checkpoint-tensor';
import { modelVariables } from '../model-variables';
import { PREDICTIONS_OUTPUT, PRODUCTS_INPUT, USERS_INPUT, idDataType, type IdDtype } from '../signature';
import { placeholder, readVariable, varHandle } from './ops';
import { forwardPass } from './forward';
import { saverSubgraph } from './saver';

/**
 * GraphDef producer version. Loaders reject only producers below their
 * minimum (0 today) or a min_consumer above their own version; from 22 on
 * Placeholder shapes are enforced. 134 is an old version that
 * every TF 2.x runtime accepts, rather than claiming a newer producer's
 * semantics.
 */
export const GRAPH_PRODUCER = 134;

export const readNodeName = (variable: string): string => `${variable}/Read/ReadVariableOp`;

export function variableNodes(variables: readonly CheckpointTensor[]): NodeDefMessage[] {
  return variables.flatMap((v) => [varHandle(v.name, v.shape), readVariable(readNodeName(v.name), v.name)]);
}

export function recommenderGraph(weights: NetworkWeights, idDtype: IdDtype): { graphDef: GraphDefMessage; saverDef: SaverDefMessage } {
  const vars = modelVariables(weights);
  const all = Object.values(vars);
  const idType = idDataType(idDtype);
  const inputs = [placeholder(USERS_INPUT, idType, [-1, 1]), placeholder(PRODUCTS_INPUT, idType, [-1, 1])];
  const forward = forwardPass({
    users: USERS_INPUT,
    products: PRODUCTS_INPUT,
    idType,
    userEmbedding: vars.userEmbedding.name,
    productEmbedding: vars.productEmbedding.name,
    userDim: weights.userEmbedding.dim,
    productDim: weights.productEmbedding.dim,
    hiddenKernelRead: readNodeName(vars.hiddenKernel.name),
    hiddenBiasRead: readNodeName(vars.hiddenBias.name),
    outputKernelRead: readNodeName(vars.outputKernel.name),
    outputBiasRead: readNodeName(vars.outputBias.name),
    activation: weights.outputActivation,
    outputName: PREDICTIONS_OUTPUT,
  });
  const inKeyOrder = [...all].sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)));
  const saver = saverSubgraph(inKeyOrder.map((v) => ({ key: v.name, handle: v.name, read: readNodeName(v.name) })));
  return {
    graphDef: { node: [...inputs, ...variableNodes(all), ...forward, ...saver.nodes], versions: { producer: GRAPH_PRODUCER } },
    saverDef: saver.saverDef,
  };
}
