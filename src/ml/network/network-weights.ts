/**
 * The trained collaborative-filtering network as plain arrays: what the ML
 * core hands to the SavedModel exporter (which must not depend on tfjs
 * models). The architecture is the seed's "DeepCollaborativeFiltering":
 *
 *   users ─► user_embedding[userRows, dim] ─┐
 *                                            concat ─► dense_1 (ReLU) ─► dense_2 ─► outputActivation ─► predictions
 *   products ─► product_embedding[productRows, dim] ─┘
 *
 * All matrices are row-major float32, as tfjs `dataSync()` returns them.
 */
export interface EmbeddingWeights {
  /** rows = largest id seen + 1 (ids are embedding rows, as in the seed) */
  rows: number;
  dim: number;
  /** length rows * dim */
  values: Float32Array;
}

export interface DenseWeights {
  inputs: number;
  units: number;
  /** [inputs, units], length inputs * units */
  kernel: Float32Array;
  /** length units */
  bias: Float32Array;
}

/** 'linear' for the seed's regression objective, 'sigmoid' for implicit feedback. */
export type OutputActivation = 'linear' | 'sigmoid';

export interface NetworkWeights {
  userEmbedding: EmbeddingWeights;
  productEmbedding: EmbeddingWeights;
  /** input size = userEmbedding.dim + productEmbedding.dim, ReLU */
  hidden: DenseWeights;
  /** units = 1 */
  output: DenseWeights;
  outputActivation: OutputActivation;
}
