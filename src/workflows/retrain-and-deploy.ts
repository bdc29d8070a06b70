/**
 * retrainAndDeploy: the durable replacement of the seed's Kubeflow pipeline
 * (data publisher → training → model publisher), deploying blue/green.
 *
 *   refreshData → trainModel → deploy lock → quality gate → exportSavedModel
 *   (standby slot) → waitForStandbyReady (serving worker) → publishModelUrl
 *   → commitActiveSlot → release the lock
 *
 * The active slot is never touched before the standby has the new version
 * AVAILABLE and has answered a smoke prediction; a failed or cancelled run
 * removes the version it exported and leaves serving as it was.
 *
 * The run's state lives in one object that the handlers (status query,
 * progress signal, cancel update) share; each step is a method; every
 * failure goes through `fail`. Changes since runs were first recorded sit
 * behind patched() (test/workflows/replay.test.ts replays the old ones).
 */
import {
  ActivityCancellationType,
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
  type ActivityOptions,
} from '@temporalio/workflow';
import type { ServingActivities, TrainingActivities } from './activity-interfaces';
import {
  cancelRunUpdate,
  DEFAULT_READINESS_TIMEOUT_SECONDS,
  DEFAULT_SERVING_TASK_QUEUE,
  statusQuery,
  trainingProgressSignal,
} from './definitions';
import { candidatePrefix } from '../store/layout';
import { qualityGate } from './gate';
import { parseRetrainAndDeployInput, checkSizeBounds } from './input-schema';
import {
  DEPLOY_LEASE_TTL_SECONDS,
  deployLockOptions,
  exportOptions,
  publishOptions,
  readinessLimit,
  readinessOptions,
  refreshDataOptions,
  registryOptions,
  trainModelOptions,
} from './options';
import { dataSummary, exportSummary, renderDetails, trainSummary } from './run-details';
import { HIT_RATE_10, MODEL_VERSION, OUTCOME, SLOT } from './search-attributes';
import type {
  CandidateRef,
  DataRef,
  DeploymentState,
  ExportRef,
  GateDecision,
  ModelMetrics,
  Outcome,
  ReadinessResult,
  RetrainAndDeployInput,
  RetrainAndDeployResult,
  RunStatus,
} from './types';
import { FailureType } from '../failure-types';

const training = (options: ActivityOptions) => proxyActivities<TrainingActivities>(options);
const lock = training(deployLockOptions);
const release = training({ ...deployLockOptions, summary: 'release the deploy lock' });
const readRegistry = training({ ...registryOptions, summary: 'read the deployment registry (active, standby, last deployments)' });
const readOnline = training({ ...registryOptions, summary: "read the active model's online figures (online evaluator)" });

/** A step's own verdict (bad input, standby not ready): `fail` records its message as the reason and ends the run with it. */
class RecordedFailure extends Error {
  constructor(readonly failure: ApplicationFailure) {
    super(failure.message);
  }
}

export async function retrainAndDeploy(input: RetrainAndDeployInput = {}): Promise<RetrainAndDeployResult> {
  return new RetrainAndDeployRun(input).run();
}

class RetrainAndDeployRun {
  private readonly info = workflowInfo();
  private readonly status: RunStatus = { step: 'starting' };
  private readonly scope = new CancellationScope();
  private input: RetrainAndDeployInput;
  private activeMetrics: ModelMetrics | undefined;
  private exported: ExportRef | undefined;
  /** the version being exported (set before the export starts): a cancel must remove it even if the export ends after */
  private exporting: { slot: string; version: number } | undefined;
  private published = false;
  private locked = false;
  /** the fencing token of this run's lease, passed to every registry write (not for runs recorded before it) */
  private fence: { leaseGeneration?: number } = {};
  private cancelReason: string | undefined;

  constructor(input: RetrainAndDeployInput) {
    this.input = input;
    setHandler(statusQuery, () => this.status);
    setHandler(trainingProgressSignal, (progress) => {
      this.status.training = progress;
      this.showDetails();
    });
    setHandler(
      cancelRunUpdate,
      (reason: string) => {
        this.cancelReason = reason || 'cancelled by request';
        this.scope.cancel();
        return `cancelling at step ${this.status.step}`;
      },
      { validator: (_reason: string) => this.refuseCancel() },
    );
  }

  /** Throws (the update is refused, the run untouched) when a cancel can no longer undo the run. */
  private refuseCancel(): void {
    if (this.status.step === 'done') throw new Error(`the run has already finished (${this.status.outcome}); nothing to cancel`);
    if (this.published || this.status.step === 'publishing' || this.status.step === 'committing') {
      throw new Error(
        `version ${this.status.version} is already being published to the model server; a cancel cannot undo it (roll back instead)`,
      );
    }
    if (this.cancelReason !== undefined) throw new Error(`the run is already being cancelled (${this.cancelReason})`);
    if (this.status.step === 'cleaning-up') throw new Error('the run has already failed and is removing its standby version');
  }

  async run(): Promise<RetrainAndDeployResult> {
    try {
      if (patched('validate-input')) this.input = this.validated(this.input);
      this.showDetails();
      return await this.scope.run(() => this.deploy());
    } catch (err) {
      return await this.fail(err);
    } finally {
      if (this.locked) await CancellationScope.nonCancellable(() => release.releaseDeployLock());
    }
  }

  private validated(input: unknown): RetrainAndDeployInput {
    try {
      const parsed = parseRetrainAndDeployInput(input);
      return patched('input-size-bounds') ? checkSizeBounds(parsed) : parsed;
    } catch (err) {
      throw new RecordedFailure(ApplicationFailure.nonRetryable((err as Error).message, FailureType.BadInput));
    }
  }

  /** The steps, in order; any failure or cancel leaves through `fail`. */
  private async deploy(): Promise<RetrainAndDeployResult> {
    const data = await this.refreshData();
    const candidate = await this.train(data);
    await this.acquireLock();
    const { state, gate } = await this.gate(candidate);
    if (!gate.deploy) return this.finish('rejected', gate.reason);
    const exported = await this.export(candidate, state);
    const ready = await this.waitForStandby(exported);
    await this.publish(exported, ready, candidate);
    return this.commit(exported, ready, candidate, gate);
  }

  private enter(step: RunStatus['step']): void {
    this.status.step = step;
    this.showDetails();
  }

  private showDetails(): void {
    setCurrentDetails(renderDetails(this.status, this.activeMetrics));
  }

  private async refreshData(): Promise<DataRef> {
    this.enter('refreshing-data');
    const options = this.input.data ?? {};
    const data = await training({ ...refreshDataOptions, summary: dataSummary(options.mode) }).refreshData(options);
    this.status.data = data;
    upsertMemo({
      data: { key: `${data.bucket}/${data.transactionsKey}`, sha256: data.sha256, rows: data.rows, badLines: data.badLines },
      ...(data.trigger && { trigger: data.trigger }),
    });
    return data;
  }

  private async train(data: DataRef): Promise<CandidateRef> {
    this.enter('training');
    const options = this.input.training ?? {};
    const heartbeat = options.heartbeatTimeoutSeconds;
    const activityOptions: ActivityOptions = heartbeat ? { ...trainModelOptions, heartbeatTimeout: heartbeat * 1000 } : trainModelOptions;
    const candidate = await training({ ...activityOptions, summary: trainSummary(options, data) }).trainModel({
      data,
      options,
      candidatePrefix: candidatePrefix(this.info.workflowId, this.info.runId),
    });
    this.status.candidate = candidate;
    upsertSearchAttributes([{ key: HIT_RATE_10, value: candidate.metrics.hitRate10 }]);
    upsertMemo({ metrics: candidate.metrics });
    return candidate;
  }

  /** From the gate to the commit, one deployment at a time (rollbacks and runs started by hand too). */
  private async acquireLock(): Promise<void> {
    this.enter('gating');
    // runs recorded before this lock existed replay without it
    if (patched('deploy-lock')) {
      const lease = await lock.acquireDeployLock({ ttlSeconds: DEPLOY_LEASE_TTL_SECONDS });
      this.locked = true;
      if (patched('lease-fencing')) this.fence = { leaseGeneration: lease.generation };
    }
  }

  /** Renews the lease for the next step (it may outlast the default lease); fails if another run took it over. */
  private async renewLock(ttlSeconds: number): Promise<void> {
    if (this.locked && patched('deploy-lease-renewal')) {
      await training({ ...registryOptions, summary: `renew the deploy lease for ${ttlSeconds} s` }).renewDeployLock({ ttlSeconds });
    }
  }

  private async gate(candidate: CandidateRef): Promise<{ state: DeploymentState; gate: GateDecision }> {
    const state = await readRegistry.getDeploymentState(this.fence);
    this.status.active = state.active && { slot: state.active.slot, version: state.active.version };
    this.activeMetrics = state.active?.metrics;
    // Runs recorded before the popularity margin existed decide as they did.
    const options = patched('gate-popularity-margin') ? this.input.gate : { popularityMargin: 0, ...this.input.gate };
    // the active model's online figures: runs recorded before they existed read none
    if (state.active && patched('active-online-figures')) {
      const { slot, version } = state.active;
      this.status.activeOnline = await readOnline.getOnlineFigures({ slot, version });
    }
    const gate = qualityGate(candidate.metrics, state.active?.metrics, options, this.status.activeOnline);
    this.status.gate = gate;
    upsertMemo({ gate: gate.reason });
    this.showDetails();
    return { state, gate };
  }

  private async export(candidate: CandidateRef, state: DeploymentState): Promise<ExportRef> {
    this.enter('exporting');
    const version = state.maxVersion + 1;
    this.status.version = version;
    this.status.standbySlot = state.standbySlot;
    upsertSearchAttributes([
      { key: MODEL_VERSION, value: version },
      { key: SLOT, value: state.standbySlot },
    ]);
    this.showDetails();
    const summary = exportSummary(candidate, state.standbySlot, version);
    // A cancel during the export waits for the activity to end (it may still
    // write the version a moment later), and the clean-up then removes it.
    const waitOnCancel = patched('cancel-removes-export');
    if (waitOnCancel) this.exporting = { slot: state.standbySlot, version };
    const options = waitOnCancel
      ? { ...exportOptions, cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED }
      : exportOptions;
    this.exported = await training({ ...options, summary }).exportSavedModel({ candidate, slot: state.standbySlot, version });
    return this.exported;
  }

  private readinessTimeout(): number {
    return this.input.readinessTimeoutSeconds ?? DEFAULT_READINESS_TIMEOUT_SECONDS;
  }

  private async waitForStandby(exported: ExportRef): Promise<ReadinessResult> {
    this.enter('waiting-for-standby');
    const timeout = this.readinessTimeout();
    await this.renewLock(timeout + 120);
    const options = readinessOptions(this.input.servingTaskQueue ?? DEFAULT_SERVING_TASK_QUEUE, timeout);
    const { waitForStandbyReady } = proxyActivities<ServingActivities>({
      ...options,
      summary: `wait until slot ${exported.slot} serves version ${exported.version} (at most ${timeout} s)`,
    });
    try {
      return await waitForStandbyReady({ slot: exported.slot, version: exported.version, ...readinessLimit(timeout) });
    } catch (err) {
      if (isCancellation(err)) throw err;
      const cause = err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
      const reason = `standby slot ${exported.slot} did not serve version ${exported.version}: ${cause}; the active slot keeps serving`;
      throw new RecordedFailure(ApplicationFailure.nonRetryable(reason, 'StandbyNotReady'));
    }
  }

  private async publish(exported: ExportRef, ready: ReadinessResult, candidate: CandidateRef): Promise<void> {
    this.enter('publishing');
    await this.renewLock(DEPLOY_LEASE_TTL_SECONDS);
    const { slot, version } = exported;
    await training({ ...publishOptions, summary: `publish ${ready.predictUrl} on Kafka (key ${slot}/${version})` }).publishModelUrl({
      slot,
      version,
      url: ready.predictUrl,
      key: `${slot}/${version}`,
      description: `version ${version} of ${this.info.workflowType} run ${this.info.workflowId}; HR@10 ${candidate.metrics.hitRate10.toFixed(4)}`,
    });
    this.published = true;
  }

  /** Once the URL is out, the registry must follow even if a cancel arrives. */
  private async commit(
    exported: ExportRef,
    ready: ReadinessResult,
    candidate: CandidateRef,
    gate: GateDecision,
  ): Promise<RetrainAndDeployResult> {
    this.enter('committing');
    const { slot, version } = exported;
    const { commitActiveSlot } = training({ ...registryOptions, summary: `record version ${version} in slot ${slot} as active` });
    const after = await CancellationScope.nonCancellable(() =>
      commitActiveSlot({ slot, version, url: ready.predictUrl, metrics: candidate.metrics, kind: 'deploy', ...this.fence }),
    );
    this.status.active = after.active && { slot: after.active.slot, version: after.active.version };
    this.status.standbySlot = after.standbySlot;
    const result = this.finish('deployed', `version ${version} serves from slot ${slot}; ${gate.reason}`);
    return { ...result, slot, url: ready.predictUrl };
  }

  private finish(outcome: Outcome, outcomeReason: string): RetrainAndDeployResult {
    // what started the run, when the data trigger did (a run the clock or a person started has none)
    const trigger = this.status.data?.trigger;
    const reason = trigger ? `started by new data (${trigger}); ${outcomeReason}` : outcomeReason;
    this.status.step = 'done';
    this.status.outcome = outcome;
    this.status.reason = reason;
    upsertSearchAttributes([{ key: OUTCOME, value: outcome }]);
    upsertMemo({ outcome, reason });
    this.showDetails();
    return {
      outcome,
      reason,
      version: this.status.version,
      slot: this.status.standbySlot,
      metrics: this.status.candidate?.metrics,
      data: this.status.data,
    };
  }

  /** Remove the exported standby version unless its URL was already published (on a cancel, also one whose export was under way). */
  private async cleanUp(cancelled: boolean): Promise<void> {
    const exported = this.exported ?? (cancelled ? this.exporting : undefined);
    if (!exported || this.published) return;
    this.enter('cleaning-up');
    const { removeModelVersion } = training({
      ...registryOptions,
      summary: `remove unpublished version ${exported.version} from slot ${exported.slot}`,
    });
    await CancellationScope.nonCancellable(() => removeModelVersion({ slot: exported.slot, version: exported.version }));
  }

  /** The one failure path: clean up, record the outcome, end the run as Failed or Canceled. */
  private async fail(err: unknown): Promise<RetrainAndDeployResult> {
    await this.cleanUp(isCancellation(err));
    if (isCancellation(err)) {
      const result = this.finish('cancelled', this.cancelReason ?? 'workflow cancelled');
      // Temporal's own cancel: the run ends Canceled
      if (!this.cancelReason) throw err;
      // Through the update: older runs completed with outcome "cancelled".
      // A workflow cannot cancel itself (the server refuses), so the client
      // follows the update with Temporal's cancel (cancelRun in
      // src/cli/commands/cancel.ts); the run waits a minute for it, and then
      // ends Canceled. A client that sends only the update gets a Completed run.
      if (!patched('cancel-ends-canceled')) return result;
      await condition(() => false, '1m'); // rejects when Temporal's cancel arrives (or has arrived)
      return result;
    }
    if (err instanceof RecordedFailure) {
      this.finish('failed', err.failure.message);
      throw err.failure;
    }
    this.finish('failed', err instanceof Error ? err.message : String(err));
    throw err;
  }
}
