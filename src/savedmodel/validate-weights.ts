/**
 * Checks a NetworkWeights value against the architecture it claims before
 * anything is written: a mismatch would otherwise surface only when
 * TensorFlow restores the checkpoint (or, worse, as a model that loads and
 * predicts garbage).
 */
import type { DenseWeights, EmbeddingWeights, NetworkWeights } from '../ml/network/network-weights';

/** Ids are fed as int32 at most, so an embedding table cannot have more rows than that. */
const MAX_ROWS = 2 ** 31 - 1;

export class InvalidWeightsError extends Error {
  override readonly name = 'InvalidWeightsError';
}

export function validateNetworkWeights(weights: NetworkWeights): void {
  checkEmbedding('userEmbedding', weights.userEmbedding);
  checkEmbedding('productEmbedding', weights.productEmbedding);
  checkDense('hidden', weights.hidden);
  checkDense('output', weights.output);
  const concatWidth = weights.userEmbedding.dim + weights.productEmbedding.dim;
  if (weights.hidden.inputs !== concatWidth) {
    fail(`hidden.inputs is ${weights.hidden.inputs}, but the concatenated embeddings are ${concatWidth} wide`);
  }
  if (weights.output.inputs !== weights.hidden.units) {
    fail(`output.inputs is ${weights.output.inputs}, but hidden has ${weights.hidden.units} units`);
  }
  if (weights.output.units !== 1) fail(`output.units must be 1, got ${weights.output.units}`);
  if (weights.outputActivation !== 'linear' && weights.outputActivation !== 'sigmoid') {
    fail(`outputActivation must be 'linear' or 'sigmoid', got ${JSON.stringify(weights.outputActivation)}`);
  }
}

function checkEmbedding(label: string, e: EmbeddingWeights): void {
  positiveInt(`${label}.rows`, e.rows, MAX_ROWS);
  positiveInt(`${label}.dim`, e.dim);
  checkValues(`${label}.values`, e.values, e.rows * e.dim);
}

function checkDense(label: string, d: DenseWeights): void {
  positiveInt(`${label}.inputs`, d.inputs);
  positiveInt(`${label}.units`, d.units);
  checkValues(`${label}.kernel`, d.kernel, d.inputs * d.units);
  checkValues(`${label}.bias`, d.bias, d.units);
}

function positiveInt(label: string, n: number, max = Number.MAX_SAFE_INTEGER): void {
  if (!Number.isSafeInteger(n) || n < 1 || n > max) fail(`${label} must be an integer in [1, ${max}], got ${n}`);
}

/** Non-finite weights make every prediction NaN; refusing them is cheaper than serving them. */
function checkValues(label: string, values: Float32Array, expected: number): void {
  if (!(values instanceof Float32Array)) fail(`${label} must be a Float32Array`);
  if (values.length !== expected) fail(`${label} has ${values.length} values, expected ${expected}`);
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) fail(`${label}[${i}] is ${values[i]}: weights must be finite`);
  }
}

function fail(message: string): never {
  throw new InvalidWeightsError(message);
}
