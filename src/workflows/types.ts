/**
 * Types shared by the workflows and the activities. Everything here crosses
 * Temporal's history, so it holds references (bucket/key, version, digest)
 * and metrics only: never data, weights or credentials.
 */

import type { ModelMetrics } from '../ml/model-metrics';
import type { TrainingObjective } from '../ml/objectives';
import type { OnlineSummary } from '../evaluation/online-summary';

export type Objective = TrainingObjective;
export type { ModelMetrics } from '../ml/model-metrics';

/** The data mode of a run that names none. */
export const DEFAULT_DATA_MODE = 'history';

/** What the data step does before training. */
export interface DataOptions {
  /**
   * 'history' (default): the real history: the base (transactions.csv; the vendored seed
   * when there is none) plus every purchase ingested by the data publisher, compacted in
   * event-time order into a new history object;
   * 'existing': train on transactions.csv as it is (fails if there is none);
   * 'generate': publish synthetic history when none exists, else use transactions.csv;
   * 'append-day': add one synthetic day of purchases to transactions.csv first (scale tests).
   */
  mode?: 'history' | 'existing' | 'generate' | 'append-day';
  /** size of generated data (only when generating) */
  users?: number;
  products?: number;
  seed?: number;
}

/** The run input's training section, in the workflow's names (activities/train.ts maps it onto ml's options). */
export interface RunTrainingOptions {
  objective?: Objective;
  epochs?: number;
  batchSize?: number;
  embeddingDim?: number;
  learningRate?: number;
  negatives?: number;
  /** users sampled for evaluation (full ranking over all products) */
  evalUsers?: number;
  seed?: number;
  /** how long training may go without a heartbeat before the attempt is retried elsewhere (default 60) */
  heartbeatTimeoutSeconds?: number;
}

export interface GateOptions {
  /** deploy unless HR@10 is worse than the active model's by more than this (absolute) */
  tolerance?: number;
  /** never deploy a model whose HR@10 is below this */
  minHitRate?: number;
  /** refuse a candidate whose HR@10 does not beat popularity's (same split) by at least this (absolute) */
  popularityMargin?: number;
  /** replace the active model only once the online evaluator has joined at least this many purchases to its answers (0: never required) */
  minOnlineFollowed?: number;
}

export interface RetrainAndDeployInput {
  data?: DataOptions;
  training?: RunTrainingOptions;
  gate?: GateOptions;
  /** how long the standby may take to report the new version AVAILABLE and answer */
  readinessTimeoutSeconds?: number;
  /** task queue of the serving worker (default recommender-serving) */
  servingTaskQueue?: string;
}

/** A reference to purchase history in MinIO, with its digest and counts. */
export interface DataRef {
  bucket: string;
  transactionsKey: string;
  usersKey: string;
  /** sha256 of transactions.csv as read */
  sha256: string;
  rows: number;
  badLines: number;
  /** the first few bad lines, "line N: reason" */
  badLineSamples: string[];
  customers: number;
  products: number;
  purchases: number;
  /** mode 'history': the purchases ingested from Kafka that the history holds (after the base), from how many segments */
  ingested?: { purchases: number; segments: number };
  /** the data trigger's reason when it started the run, e.g. "12,400 new purchases since version 7" */
  trigger?: string;
}

export type { Deployment, DeploymentState } from '../store/registry';

/** A trained candidate model, stored in MinIO (tfjs artifacts + metadata). */
export interface CandidateRef {
  bucket: string;
  /** prefix holding model.json, weights.bin, metadata.json, metrics.json, loss.svg */
  prefix: string;
  /** sha256 of the weights */
  digest: string;
  userRows: number;
  productRows: number;
  metrics: ModelMetrics;
  trainingSeconds: number;
}

export interface ExportRef {
  slot: string;
  version: number;
  bucket: string;
  prefix: string;
  /** sha256 of saved_model.pb */
  digest: string;
  bytes: number;
  seconds: number;
}

export type { ReadinessInput, ReadinessResult } from '../serving/activities';

/** publishModelUrl's answer: where the ModelDescriptor landed on the models topic. */
export interface DescriptorPublished {
  key: string;
  url: string;
  /** false when an earlier attempt had already published this key */
  published: boolean;
  partition: number;
  offset: string;
}

export type Step =
  | 'starting'
  | 'refreshing-data'
  | 'training'
  | 'gating'
  | 'exporting'
  | 'waiting-for-standby'
  | 'publishing'
  | 'committing'
  | 'cleaning-up'
  | 'done';

export type Outcome = 'deployed' | 'rolled-back' | 'rejected' | 'failed' | 'cancelled';

/** What trainModel heartbeats and signals while it trains; the status query and the CLI show it. */
export interface TrainingHeartbeat {
  epoch: number;
  epochs: number;
  /** the linear default's closed-form steps: choosing its knobs on validation, then the final fit */
  stage?: 'selection' | 'fit';
  batch?: number;
  batches?: number;
  loss?: number;
  valLoss?: number;
}

export interface RunStatus {
  step: Step;
  outcome?: Outcome;
  reason?: string;
  data?: DataRef;
  training?: TrainingHeartbeat;
  candidate?: CandidateRef;
  active?: { slot: string; version: number } | null;
  standbySlot?: string;
  version?: number;
  gate?: GateDecision;
  /** the active model's online figures (src/evaluation/online-summary.ts), beside the candidate's offline ones */
  activeOnline?: OnlineSummary;
}

export interface GateDecision {
  deploy: boolean;
  reason: string;
}

export interface RetrainAndDeployResult {
  outcome: Outcome;
  reason: string;
  version?: number;
  slot?: string;
  url?: string;
  metrics?: ModelMetrics;
  data?: DataRef;
}

export interface RollbackInput {
  /** roll back to this version (default: the deployment before the active one) */
  version?: number;
  readinessTimeoutSeconds?: number;
  servingTaskQueue?: string;
  /** why, when a policy started it (the online evidence, one line): part of the outcome's reason */
  evidence?: string;
  /** roll back only while this version is the active one (a policy's evidence is about it; a newer deploy makes it moot) */
  onlyIfActive?: { slot: string; version: number };
}

/** The retention workflow's input: what to keep (src/workflows/input-schema.ts checks it). */
export interface RetentionInput {
  /** newest versions kept per slot, besides the active and standby ones (default 3) */
  keepVersions?: number;
  /** lineage records kept per slot: the newest N versions' (default: keepVersions), besides the active and standby ones */
  keepLineage?: number;
  /** candidates (trained models not exported yet) older than this are removed unless their run still runs (default 24) */
  candidatesOlderThanHours?: number;
  /** staging prefixes of crashed publishes older than this are removed (default 24) */
  stagingOlderThanHours?: number;
  /** ingested segments already folded into the newest compacted history and older than this are removed (default 168) */
  segmentsOlderThanHours?: number;
  /** report what would be removed, remove nothing */
  dryRun?: boolean;
}

/** What the retention activity is asked to do: the input with its defaults applied. */
export interface RetentionOptions {
  keepVersions: number;
  stagingOlderThanHours: number;
  /** absent in runs recorded before lineage retention: lineage is left alone */
  keepLineage?: number;
  /** absent in runs recorded before candidate retention: candidates are left alone */
  candidatesOlderThanHours?: number;
  /** absent in runs recorded before segment retention: segments are left alone */
  segmentsOlderThanHours?: number;
  dryRun?: boolean;
}

export interface SlotRetentionResult {
  slot: string;
  keptVersions?: number[];
  removedVersions: number[];
  removedStaging: string[];
  removedLineage?: number[];
  removedBytes?: number;
}

export interface CandidateRetentionResult {
  removed: number;
  removedBytes: number;
  keptInUse: number;
  keptYoung: number;
  sample: string[];
}

export type RetentionReport =
  | { skipped: true; heldBy: string }
  | {
      skipped: false;
      dryRun?: boolean;
      slots: SlotRetentionResult[];
      candidates?: CandidateRetentionResult;
      /** ingested segments removed (folded into the compacted history they now start from) */
      segments?: { removed: number; removedBytes: number; kept: number; rebasedOn?: string };
    };
