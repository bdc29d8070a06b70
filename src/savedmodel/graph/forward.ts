/**
 * The inference path of the seed's DeepCollaborativeFiltering network:
 *
 *   users ─ ResourceGather(user_embedding) ─ Reshape[-1,du] ─┐
 *                                                            ConcatV2 ─ MatMul ─ BiasAdd ─ Relu ─ MatMul ─ BiasAdd [─ Sigmoid] ─ Identity "predictions"
 *   products ─ ResourceGather(product_embedding) ─ Reshape[-1,dp] ─┘
 *
 * Dropout only acts in training, so it has no node here. Lookups gather rows
 * straight from the variable (no read of the whole table per request).
 */
import type { DataTypeValue, NodeDefMessage } from '../messages';
import type { OutputActivation } from '../../ml/network/network-weights';
import { int32Tensor } from './attrs';
import { biasAdd, concatV2, constant, identity, matMul, relu, reshape, resourceGather, sigmoid } from './ops';

export interface ForwardPassInputs {
  users: string;
  products: string;
  idType: DataTypeValue;
  /** VarHandleOp node names of the tables */
  userEmbedding: string;
  productEmbedding: string;
  userDim: number;
  productDim: number;
  /** ReadVariableOp node names of the dense weights */
  hiddenKernelRead: string;
  hiddenBiasRead: string;
  outputKernelRead: string;
  outputBiasRead: string;
  activation: OutputActivation;
  /** name of the final Identity */
  outputName: string;
}

export function forwardPass(p: ForwardPassInputs): NodeDefMessage[] {
  const nodes: NodeDefMessage[] = [
    resourceGather('user_lookup', p.userEmbedding, p.users, p.idType),
    constant('user_flat/shape', int32Tensor([2], [-1, p.userDim])),
    reshape('user_flat', 'user_lookup', 'user_flat/shape'),
    resourceGather('product_lookup', p.productEmbedding, p.products, p.idType),
    constant('product_flat/shape', int32Tensor([2], [-1, p.productDim])),
    reshape('product_flat', 'product_lookup', 'product_flat/shape'),
    constant('concat/axis', int32Tensor([], [1])),
    concatV2('concat', ['user_flat', 'product_flat'], 'concat/axis'),
    matMul('dense_1/MatMul', 'concat', p.hiddenKernelRead),
    biasAdd('dense_1/BiasAdd', 'dense_1/MatMul', p.hiddenBiasRead),
    relu('dense_1/Relu', 'dense_1/BiasAdd'),
    matMul('dense_2/MatMul', 'dense_1/Relu', p.outputKernelRead),
    biasAdd('dense_2/BiasAdd', 'dense_2/MatMul', p.outputBiasRead),
  ];
  let last = 'dense_2/BiasAdd';
  if (p.activation === 'sigmoid') {
    nodes.push(sigmoid('dense_2/Sigmoid', last));
    last = 'dense_2/Sigmoid';
  }
  nodes.push(identity(p.outputName, last));
  return nodes;
}
