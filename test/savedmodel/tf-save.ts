/**
 * Lets TensorFlow itself write a checkpoint of a SavedModel we exported: a
 * copy of the model gets an extra signature `save` (input: checkpoint
 * prefix, output: the saver's save tensor), which tfjs-node's loader can run
 * — TF restores our checkpoint at load, then its SaveV2 kernel writes its
 * own bundle of the same variables.
 */
import * as tf from '@tensorflow/tfjs-node';
import { cp, readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { DataType, type SavedModelMessage } from '../../src/savedmodel/messages';
import { encodeMessage, loadTensorflowProtos } from '../../src/savedmodel/protos';
import { FILENAME_TENSOR, SAVE_TENSOR } from '../../src/savedmodel/graph/saver';

export async function decodeSavedModel(dir: string): Promise<SavedModelMessage> {
  const { SavedModel } = loadTensorflowProtos();
  const bytes = await readFile(path.join(dir, 'saved_model.pb'));
  return SavedModel.toObject(SavedModel.decode(bytes), { longs: Number }) as SavedModelMessage;
}

export const SAVE_SIGNATURE = {
  inputs: { prefix: { name: FILENAME_TENSOR, dtype: DataType.DT_STRING, tensorShape: {} } },
  outputs: { done: { name: SAVE_TENSOR, dtype: DataType.DT_STRING, tensorShape: {} } },
  methodName: 'tensorflow/serving/predict',
};

export async function copyWithSaveSignature(src: string, dst: string): Promise<void> {
  await cp(src, dst, { recursive: true });
  const model = await decodeSavedModel(dst);
  model.metaGraphs[0].signatureDef.save = SAVE_SIGNATURE;
  await writeFile(path.join(dst, 'saved_model.pb'), encodeMessage(loadTensorflowProtos().SavedModel, model));
}

/** Loads `dir` (which must have the `save` signature) and has TensorFlow write its variables to `prefix`. */
export async function saveWithTensorflow(dir: string, prefix: string): Promise<void> {
  const model = await tf.node.loadSavedModel(dir, ['serve'], 'save');
  try {
    const input = tf.scalar(prefix);
    const out = model.predict({ prefix: input });
    tf.dispose([input, out as tf.NamedTensorMap]);
  } finally {
    model.dispose();
  }
}
