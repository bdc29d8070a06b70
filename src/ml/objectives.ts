import { objectiveModes } from './network/options';

/**
 * Every training objective a run may name: `linear` (the default: the
 * item-to-item EASE + RP3β blend, src/ml/linear) and the network objectives
 * of src/ml/network/options.ts (`implicit`, and `seed`, the origin project's recipe).
 */
export const TRAINING_OBJECTIVES = ['linear', ...objectiveModes] as const;
export type TrainingObjective = (typeof TRAINING_OBJECTIVES)[number];
export const DEFAULT_OBJECTIVE: TrainingObjective = 'linear';
