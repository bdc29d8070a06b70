/**
 * The activities the workflows call, as types only: the workflow bundle must
 * not import activity code (it runs in the deterministic sandbox).
 */
import type {
  CandidateRef,
  DataOptions,
  DataRef,
  DeploymentState,
  ExportRef,
  ModelMetrics,
  DescriptorPublished,
  ReadinessInput,
  ReadinessResult,
  RunTrainingOptions,
} from './types';

/** Hosted by the training worker on the training task queue. */
export interface TrainingActivities {
  refreshData(options: DataOptions): Promise<DataRef>;
  trainModel(input: { data: DataRef; options: RunTrainingOptions; candidatePrefix: string }): Promise<CandidateRef>;
  getDeploymentState(): Promise<DeploymentState>;
  exportSavedModel(input: { candidate: CandidateRef; slot: string; version: number }): Promise<ExportRef>;
  publishModelUrl(input: { slot: string; version: number; url: string; key: string; description: string }): Promise<DescriptorPublished>;
  commitActiveSlot(input: {
    slot: string;
    version: number;
    url: string;
    metrics: ModelMetrics;
    kind: 'deploy' | 'rollback';
  }): Promise<DeploymentState>;
  removeModelVersion(input: { slot: string; version: number }): Promise<{ removed: number }>;
  /** one deployment at a time (fails retryably while another live run holds its unexpired lease) */
  acquireDeployLock(input?: { ttlSeconds?: number }): Promise<{ holder: string; expiresAt?: string }>;
  /** extends this run's lease (fails non-retryably when it lost it) */
  renewDeployLock(input: { ttlSeconds?: number }): Promise<{ renewed: true }>;
  releaseDeployLock(): Promise<{ released: boolean }>;
}

/** Hosted by the serving worker on the serving task queue (next to the slots). */
export interface ServingActivities {
  waitForStandbyReady(input: ReadinessInput): Promise<ReadinessResult>;
}
