/**
 * Test helpers: a tfjs-layers model equivalent to the seed architecture (so
 * these tests do not depend on src/ml's model code), its weights as
 * NetworkWeights, and wrappers around tfjs-node's SavedModel loader.
 */
import * as tf from '@tensorflow/tfjs-node';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Client } from 'minio';
import type { NetworkWeights, OutputActivation } from '../../src/ml/network/network-weights';

export interface TestModelSpec {
  users: number;
  products: number;
  dim: number;
  hidden: number;
  activation: OutputActivation;
  seed?: number;
}

export const SEED_SIZE: Omit<TestModelSpec, 'activation'> = { users: 1000, products: 300, dim: 50, hidden: 50 };

/**
 * users → Embedding → Flatten ┐
 *                              Concatenate → Dropout → Dense(relu) → Dropout → Dense(1[, sigmoid])
 * products → Embedding → Flatten ┘
 * Initialisers give every weight (biases too) a visible, non-zero value so
 * a mis-wired weight changes the predictions.
 */
export function buildTfjsRecommender(spec: TestModelSpec): tf.LayersModel {
  const seed = spec.seed ?? 42;
  const users = tf.input({ shape: [1], dtype: 'int32', name: 'users' });
  const products = tf.input({ shape: [1], dtype: 'int32', name: 'products' });
  const embed = (rows: number, name: string, s: number, input: tf.SymbolicTensor): tf.SymbolicTensor =>
    tf.layers.flatten().apply(
      tf.layers
        .embedding({
          inputDim: rows,
          outputDim: spec.dim,
          name,
          embeddingsInitializer: tf.initializers.randomNormal({ stddev: 0.5, seed: s }),
        })
        .apply(input),
    ) as tf.SymbolicTensor;
  const concat = tf.layers
    .concatenate()
    .apply([embed(spec.users, 'user_embedding', seed, users), embed(spec.products, 'product_embedding', seed + 1, products)]);
  const dense = (
    units: number,
    name: string,
    activation: 'relu' | 'linear' | 'sigmoid',
    s: number,
    input: tf.SymbolicTensor,
  ): tf.SymbolicTensor =>
    tf.layers
      .dense({
        units,
        name,
        activation,
        kernelInitializer: tf.initializers.glorotUniform({ seed: s }),
        biasInitializer: tf.initializers.randomNormal({ stddev: 0.3, seed: s + 100 }),
      })
      .apply(tf.layers.dropout({ rate: 0.2 }).apply(input)) as tf.SymbolicTensor;
  const hidden = dense(spec.hidden, 'dense_1', 'relu', seed + 2, concat as tf.SymbolicTensor);
  const output = dense(1, 'dense_2', spec.activation, seed + 3, hidden);
  return tf.model({ inputs: [users, products], outputs: output });
}

function layerWeights(model: tf.LayersModel, name: string): { shape: number[]; values: Float32Array }[] {
  return model
    .getLayer(name)
    .getWeights()
    .map((w) => ({ shape: w.shape, values: w.dataSync() as Float32Array }));
}

export function weightsOf(model: tf.LayersModel, activation: OutputActivation): NetworkWeights {
  const [user] = layerWeights(model, 'user_embedding');
  const [product] = layerWeights(model, 'product_embedding');
  const [k1, b1] = layerWeights(model, 'dense_1');
  const [k2, b2] = layerWeights(model, 'dense_2');
  return {
    userEmbedding: { rows: user.shape[0], dim: user.shape[1], values: user.values },
    productEmbedding: { rows: product.shape[0], dim: product.shape[1], values: product.values },
    hidden: { inputs: k1.shape[0], units: k1.shape[1], kernel: k1.values, bias: b1.values },
    output: { inputs: k2.shape[0], units: k2.shape[1], kernel: k2.values, bias: b2.values },
    outputActivation: activation,
  };
}

/** Deterministic pseudo-random ids in [0, rows), always including 0 and rows - 1. */
export function sampleIds(rows: number, count: number, seed: number): Int32Array {
  const ids = new Int32Array(count);
  let state = seed >>> 0 || 1;
  for (let i = 0; i < count; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    ids[i] = state % rows;
  }
  ids[0] = 0;
  ids[count - 1] = rows - 1;
  return ids;
}

export function predictTfjs(model: tf.LayersModel, users: Int32Array, products: Int32Array): Float32Array {
  return tf.tidy(() => {
    const out = model.predict([tf.tensor2d(users, [users.length, 1], 'int32'), tf.tensor2d(products, [products.length, 1], 'int32')]);
    return (out as tf.Tensor).dataSync() as Float32Array;
  });
}

/** Loads with TensorFlow's own loader (C API), predicts, disposes the session. */
export async function predictSavedModel(
  dir: string,
  users: Int32Array,
  products: Int32Array,
): Promise<{ values: Float32Array; shape: number[] }> {
  const model = await tf.node.loadSavedModel(dir, ['serve'], 'serving_default');
  try {
    return tf.tidy(() => {
      const out = model.predict({
        users: tf.tensor2d(users, [users.length, 1], 'int32'),
        products: tf.tensor2d(products, [products.length, 1], 'int32'),
      });
      // tfjs-node returns a map keyed by output name for named inputs.
      const tensor = out instanceof tf.Tensor ? out : Array.isArray(out) ? undefined : out.predictions;
      if (!(tensor instanceof tf.Tensor)) throw new Error('expected a `predictions` output tensor');
      return { values: tensor.dataSync() as Float32Array, shape: tensor.shape };
    });
  } finally {
    model.dispose();
  }
}

export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

export async function makeTempDir(): Promise<string> {
  return mkdtemp(path.join(tmpdir(), 'savedmodel-test-'));
}

/** The local stack's MinIO (docs/design.md: local defaults only). */
export const MINIO = { endpoint: 'http://127.0.0.1:9000', accessKey: 'minio', secretKey: 'minio123', bucket: 'models' };

export function minioClient(): Client {
  const url = new URL(MINIO.endpoint);
  return new Client({
    endPoint: url.hostname,
    port: Number(url.port),
    useSSL: false,
    accessKey: MINIO.accessKey,
    secretKey: MINIO.secretKey,
  });
}

/** Waits for MinIO to report ready (the stack may still be starting). */
export async function waitForMinio(timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const response = await fetch(`${MINIO.endpoint}/minio/health/ready`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`MinIO at ${MINIO.endpoint} not ready after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}
