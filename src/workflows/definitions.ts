/** Queries, signals and updates of the workflows: shared by workflows and clients. */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { RunStatus, TrainingHeartbeat } from './types';

/** current step, training progress, metrics, slots */
export const statusQuery = defineQuery<RunStatus>('status');
/** sent by the training activity once per epoch (per-batch progress stays in heartbeats) */
export const trainingProgressSignal = defineSignal<[TrainingHeartbeat]>('trainingProgress');
/** cancel a run cleanly: the standby version is removed unless already published */
export const cancelRunUpdate = defineUpdate<string, [string]>('cancelRun');

export const DEFAULT_SERVING_TASK_QUEUE = 'recommender-serving';
export const DEFAULT_READINESS_TIMEOUT_SECONDS = 300;
