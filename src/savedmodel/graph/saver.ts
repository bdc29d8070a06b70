/**
 * The TF1 saver subgraph, named as tf.compat.v1.train.Saver names it, which
 * is what SavedModel loaders drive through saver_def:
 *
 * - restore (run once at load): the loader feeds "<export dir>/variables/
 *   variables" into `save/Const:0` and runs `save/restore_all`, i.e.
 *   RestoreV2 → one AssignVariableOp per variable.
 * - save (never run on load; Python's Saver insists that save_tensor_name
 *   names a real tensor): SaveV2 of every variable's value, then
 *   `save/control_dependency` returns the prefix once the write is done.
 *   It also lets TensorFlow itself write this model's checkpoint, which the
 *   tests use to compare TensorFlow's bytes with ours.
 */
import type { NodeDefMessage, SaverDefMessage } from '../messages';
import { DataType } from '../messages';
import { stringTensor } from './attrs';
import { assignVariable, constant, identity, noOp, output, placeholderWithDefault, restoreV2, saveV2 } from './ops';

export interface SavedVariable {
  /** checkpoint key */
  key: string;
  /** VarHandleOp node */
  handle: string;
  /** ReadVariableOp node of the handle */
  read: string;
}

export const FILENAME_TENSOR = 'save/Const:0';
export const RESTORE_OP = 'save/restore_all';
export const SAVE_TENSOR = 'save/control_dependency:0';

/** `variables` in checkpoint key order (RestoreV2 output i is tensor_names[i]). */
export function saverSubgraph(variables: readonly SavedVariable[]): { nodes: NodeDefMessage[]; saverDef: SaverDefMessage } {
  const keys = variables.map((v) => v.key);
  const noSlices = keys.map(() => '');
  const nodes: NodeDefMessage[] = [
    // The default file name is a placeholder; loaders always feed the real prefix.
    constant('save/filename/input', stringTensor([], ['model'])),
    placeholderWithDefault('save/Const', 'save/filename/input', DataType.DT_STRING, []),
    constant('save/SaveV2/tensor_names', stringTensor([keys.length], keys)),
    constant('save/SaveV2/shape_and_slices', stringTensor([keys.length], noSlices)),
    saveV2(
      'save/SaveV2',
      'save/Const',
      'save/SaveV2/tensor_names',
      'save/SaveV2/shape_and_slices',
      variables.map((v) => v.read),
    ),
    identity('save/control_dependency', 'save/Const', DataType.DT_STRING, ['save/SaveV2']),
    constant('save/RestoreV2/tensor_names', stringTensor([keys.length], keys)),
    constant('save/RestoreV2/shape_and_slices', stringTensor([keys.length], noSlices)),
    restoreV2('save/RestoreV2', 'save/Const', 'save/RestoreV2/tensor_names', 'save/RestoreV2/shape_and_slices', keys.length),
  ];
  const assigns = variables.map((v, i) => {
    const assign = assignVariable(`save/Assign_${i}`, v.handle, output('save/RestoreV2', i));
    nodes.push(assign);
    return assign.name;
  });
  nodes.push(noOp(RESTORE_OP, assigns));
  return {
    nodes,
    saverDef: { filenameTensorName: FILENAME_TENSOR, saveTensorName: SAVE_TENSOR, restoreOpName: RESTORE_OP, version: 2 },
  };
}
