import * as tf from '@tensorflow/tfjs-node';
import type { DenseWeights, EmbeddingWeights, NetworkWeights, OutputActivation } from './network-weights';

/** Layer names shared with the SavedModel exporter and the seed's Keras model. */
export const LAYER_NAMES = {
  userEmbedding: 'user_embedding',
  productEmbedding: 'product_embedding',
  hidden: 'dense_1',
  output: 'dense_2',
} as const;

/** Input names = the serving signature's inputs. */
export const INPUT_NAMES = { users: 'users', products: 'products' } as const;

export interface NetworkShape {
  /** user embedding rows = largest customer id + 1 */
  userRows: number;
  /** product embedding rows = largest product id + 1 */
  productRows: number;
  embeddingDim: number;
  hiddenUnits: number;
  dropout: number;
  outputActivation: OutputActivation;
  /** seeds the weight initialisers (dropout masks stay unseeded: a fixed seed would repeat one mask every batch) */
  seed: number;
}

/**
 * The seed's "DeepCollaborativeFiltering": user and product embeddings,
 * flattened and concatenated (user first), dropout, dense ReLU, dropout,
 * dense 1 with the objective's output activation. Not compiled: training
 * chooses loss and optimizer.
 */
export function buildNetwork(shape: NetworkShape): tf.LayersModel {
  const users = tf.input({ shape: [1], dtype: 'int32', name: INPUT_NAMES.users });
  const products = tf.input({ shape: [1], dtype: 'int32', name: INPUT_NAMES.products });
  // Keras' Embedding default init, made reproducible.
  const embeddingInit = (offset: number): ReturnType<typeof tf.initializers.randomUniform> =>
    tf.initializers.randomUniform({ minval: -0.05, maxval: 0.05, seed: shape.seed + offset });

  // one tower per id kind: embedding row lookup, flattened to a vector
  const tower = (input: tf.SymbolicTensor, embedding: string, flatten: string, rows: number, seedOffset: number) =>
    tf.layers
      .flatten({ name: flatten })
      .apply(
        tf.layers
          .embedding({ name: embedding, inputDim: rows, outputDim: shape.embeddingDim, embeddingsInitializer: embeddingInit(seedOffset) })
          .apply(input),
      ) as tf.SymbolicTensor;
  const userVector = tower(users, LAYER_NAMES.userEmbedding, 'user_flatten', shape.userRows, 1);
  const productVector = tower(products, LAYER_NAMES.productEmbedding, 'product_flatten', shape.productRows, 2);

  let x = tf.layers.concatenate({ name: 'concat', axis: -1 }).apply([userVector, productVector]) as tf.SymbolicTensor;
  x = tf.layers.dropout({ name: 'dropout_1', rate: shape.dropout }).apply(x) as tf.SymbolicTensor;
  x = tf.layers
    .dense({
      name: LAYER_NAMES.hidden,
      units: shape.hiddenUnits,
      activation: 'relu',
      kernelInitializer: tf.initializers.glorotUniform({ seed: shape.seed + 3 }),
    })
    .apply(x) as tf.SymbolicTensor;
  x = tf.layers.dropout({ name: 'dropout_2', rate: shape.dropout }).apply(x) as tf.SymbolicTensor;
  const predictions = tf.layers
    .dense({
      name: LAYER_NAMES.output,
      units: 1,
      activation: shape.outputActivation,
      kernelInitializer: tf.initializers.glorotUniform({ seed: shape.seed + 4 }),
    })
    .apply(x) as tf.SymbolicTensor;

  return tf.model({ name: 'DeepCollaborativeFiltering', inputs: [users, products], outputs: predictions });
}

/**
 * Copies the trained weights out of the model as row-major Float32Arrays, in
 * the shapes tfjs stores them (embeddings [rows, dim], dense kernels
 * [inputs, units]) — the contract of src/ml/network/network-weights.ts that the
 * SavedModel exporter consumes. The copies are independent of the model.
 */
export function extractWeights(model: tf.LayersModel): NetworkWeights {
  const userEmbedding = readEmbedding(model, LAYER_NAMES.userEmbedding);
  const productEmbedding = readEmbedding(model, LAYER_NAMES.productEmbedding);
  const hidden = readDense(model, LAYER_NAMES.hidden);
  const output = readDense(model, LAYER_NAMES.output);
  if (hidden.inputs !== userEmbedding.dim + productEmbedding.dim) {
    throw new Error(`dense_1 expects ${hidden.inputs} inputs, embeddings give ${userEmbedding.dim + productEmbedding.dim}`);
  }
  if (output.inputs !== hidden.units || output.units !== 1) {
    throw new Error(`dense_2 must map ${hidden.units} inputs to 1 unit, has [${output.inputs}, ${output.units}]`);
  }
  return { userEmbedding, productEmbedding, hidden, output, outputActivation: outputActivationOf(model) };
}

function readEmbedding(model: tf.LayersModel, name: string): EmbeddingWeights {
  const [table] = model.getLayer(name).getWeights();
  const [rows, dim] = table.shape;
  // dataSync returns a copy for the tensorflow backend; slice() makes that explicit for any backend.
  return { rows, dim, values: (table.dataSync() as Float32Array).slice() };
}

function readDense(model: tf.LayersModel, name: string): DenseWeights {
  const [kernel, bias] = model.getLayer(name).getWeights();
  const [inputs, units] = kernel.shape;
  return {
    inputs,
    units,
    kernel: (kernel.dataSync() as Float32Array).slice(),
    bias: (bias.dataSync() as Float32Array).slice(),
  };
}

function outputActivationOf(model: tf.LayersModel): OutputActivation {
  const config = model.getLayer(LAYER_NAMES.output).getConfig();
  const activation = config['activation'];
  if (activation === 'linear' || activation === 'sigmoid') return activation;
  throw new Error(`dense_2 has activation ${String(activation)}, expected linear or sigmoid`);
}
