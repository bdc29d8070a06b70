/**
 * The recommender's variables: one name per weight, used as the VarHandleOp
 * node name, its shared_name and its checkpoint key, so graph and checkpoint
 * cannot disagree. Data are the caller's Float32Arrays, not copies.
 */
import type { NetworkWeights } from '../ml/network/network-weights';
import type { CheckpointTensor } from './checkpoint/checkpoint-tensor';

export const VARIABLE_NAMES = {
  userEmbedding: 'user_embedding',
  productEmbedding: 'product_embedding',
  hiddenKernel: 'dense_1/kernel',
  hiddenBias: 'dense_1/bias',
  outputKernel: 'dense_2/kernel',
  outputBias: 'dense_2/bias',
} as const;

export type ModelVariables = Record<keyof typeof VARIABLE_NAMES, CheckpointTensor>;

export function modelVariables(w: NetworkWeights): ModelVariables {
  return {
    userEmbedding: { name: VARIABLE_NAMES.userEmbedding, shape: [w.userEmbedding.rows, w.userEmbedding.dim], data: w.userEmbedding.values },
    productEmbedding: {
      name: VARIABLE_NAMES.productEmbedding,
      shape: [w.productEmbedding.rows, w.productEmbedding.dim],
      data: w.productEmbedding.values,
    },
    hiddenKernel: { name: VARIABLE_NAMES.hiddenKernel, shape: [w.hidden.inputs, w.hidden.units], data: w.hidden.kernel },
    hiddenBias: { name: VARIABLE_NAMES.hiddenBias, shape: [w.hidden.units], data: w.hidden.bias },
    outputKernel: { name: VARIABLE_NAMES.outputKernel, shape: [w.output.inputs, w.output.units], data: w.output.kernel },
    outputBias: { name: VARIABLE_NAMES.outputBias, shape: [w.output.units], data: w.output.bias },
  };
}
