/**
 * GraphDef of a dot-product recommender (the item-to-item linear models):
 *
 *   users ─ ResourceGather(user_factors) ─ Reshape[-1,d] ─┐
 *                                                          Mul ─ Sum(axis 1, keep_dims) ─ Identity "predictions" [-1,1]
 *   products ─ ResourceGather(product_factors) ─ Reshape[-1,d] ─┘
 *
 * Same placeholders, signature and saver as the MLP graph, so TF Serving
 * and the slots serve it unchanged.
 */
import type { GraphDefMessage, NodeDefMessage, SaverDefMessage } from '../messages';
import type { DotProductWeights } from '../../ml/dot-weights';
import type { CheckpointTensor } from '../checkpoint/checkpoint-tensor';
import { PREDICTIONS_OUTPUT, PRODUCTS_INPUT, USERS_INPUT, idDataType, type IdDtype } from '../signature';
import { int32Tensor } from './attrs';
import { constant, identity, mul, placeholder, reshape, resourceGather, sum } from './ops';
import { GRAPH_PRODUCER, readNodeName, variableNodes } from './recommender-graph';
import { saverSubgraph } from './saver';

export const DOT_VARIABLE_NAMES = { userFactors: 'user_factors', productFactors: 'product_factors' } as const;

export function dotProductVariables(w: DotProductWeights): CheckpointTensor[] {
  return [
    { name: DOT_VARIABLE_NAMES.productFactors, shape: [w.productRows, w.dim], data: w.productFactors },
    { name: DOT_VARIABLE_NAMES.userFactors, shape: [w.userRows, w.dim], data: w.userFactors },
  ];
}

export function dotProductGraph(w: DotProductWeights, idDtype: IdDtype): { graphDef: GraphDefMessage; saverDef: SaverDefMessage } {
  const idType = idDataType(idDtype);
  const vars = dotProductVariables(w);
  const forward: NodeDefMessage[] = [
    placeholder(USERS_INPUT, idType, [-1, 1]),
    placeholder(PRODUCTS_INPUT, idType, [-1, 1]),
    ...variableNodes(vars),
    resourceGather('user_lookup', DOT_VARIABLE_NAMES.userFactors, USERS_INPUT, idType),
    constant('flat/shape', int32Tensor([2], [-1, w.dim])),
    reshape('user_flat', 'user_lookup', 'flat/shape'),
    resourceGather('product_lookup', DOT_VARIABLE_NAMES.productFactors, PRODUCTS_INPUT, idType),
    reshape('product_flat', 'product_lookup', 'flat/shape'),
    mul('dot/Mul', 'user_flat', 'product_flat'),
    constant('dot/axis', int32Tensor([1], [1])),
    sum('dot/Sum', 'dot/Mul', 'dot/axis', true),
    identity(PREDICTIONS_OUTPUT, 'dot/Sum'),
  ];
  // vars are listed in checkpoint key order (product_factors < user_factors)
  const saver = saverSubgraph(vars.map((v) => ({ key: v.name, handle: v.name, read: readNodeName(v.name) })));
  return { graphDef: { node: [...forward, ...saver.nodes], versions: { producer: GRAPH_PRODUCER } }, saverDef: saver.saverDef };
}
