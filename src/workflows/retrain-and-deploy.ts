/**
 * retrainAndDeploy: the durable replacement of the seed's Kubeflow pipeline
 * (data publisher → training → model publisher), deploying blue/green.
 *
 *   refreshData → trainModel → quality gate → exportSavedModel (standby slot)
 *   → waitForStandbyReady (serving worker) → publishModelUrl → commitActiveSlot
 *
 * The active slot is never touched before the standby has the new version
 * AVAILABLE and has answered a smoke prediction; a failed or cancelled run
 * removes the version it exported and leaves serving as it was.
 */
import {
  ApplicationFailure,
  CancellationScope,
  isCancellation,
  patched,
  proxyActivities,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { ServingActivities, TrainingActivities } from './activity-interfaces';
import { cancelRunUpdate, DEFAULT_READINESS_TIMEOUT_SECONDS, DEFAULT_SERVING_TASK_QUEUE, statusQuery, trainingProgressSignal } from './definitions';
import { qualityGate } from './gate';
import { deployLockOptions, exportOptions, publishOptions, readinessOptions, refreshDataOptions, registryOptions, trainModelOptions } from './options';
import { HIT_RATE_10, MODEL_VERSION, OUTCOME, SLOT } from './search-attributes';
import type { ExportRef, Outcome, RetrainAndDeployInput, RetrainAndDeployResult, RunStatus } from './types';

const { refreshData } = proxyActivities<TrainingActivities>(refreshDataOptions);
const { getDeploymentState, commitActiveSlot, removeModelVersion } = proxyActivities<TrainingActivities>(registryOptions);
const { exportSavedModel } = proxyActivities<TrainingActivities>(exportOptions);
const { acquireDeployLock, releaseDeployLock } = proxyActivities<TrainingActivities>(deployLockOptions);
const { publishModelUrl } = proxyActivities<TrainingActivities>(publishOptions);

export async function retrainAndDeploy(input: RetrainAndDeployInput = {}): Promise<RetrainAndDeployResult> {
  const info = workflowInfo();
  const status: RunStatus = { step: 'starting' };
  let exported: ExportRef | undefined;
  let published = false;
  let locked = false;
  let cancelReason: string | undefined;

  const run = new CancellationScope();
  setHandler(statusQuery, () => status);
  setHandler(trainingProgressSignal, (progress) => {
    status.training = progress;
  });
  setHandler(cancelRunUpdate, (reason: string) => {
    cancelReason = reason || 'cancelled by request';
    run.cancel();
    return `cancelling at step ${status.step}`;
  });

  const finish = (outcome: Outcome, reason: string): RetrainAndDeployResult => {
    status.step = 'done';
    status.outcome = outcome;
    status.reason = reason;
    upsertSearchAttributes([{ key: OUTCOME, value: outcome }]);
    upsertMemo({ outcome, reason });
    return {
      outcome,
      reason,
      version: status.version,
      slot: status.standbySlot,
      metrics: status.candidate?.metrics,
      data: status.data,
    };
  };

  /** Remove the exported standby version unless its URL was already published. */
  const cleanUp = async () => {
    if (!exported || published) return;
    status.step = 'cleaning-up';
    await CancellationScope.nonCancellable(() => removeModelVersion({ slot: exported!.slot, version: exported!.version }));
  };

  try {
    try {
      return await run.run(async () => {
        status.step = 'refreshing-data';
        const data = await refreshData(input.data ?? {});
        status.data = data;
        upsertMemo({ data: { key: `${data.bucket}/${data.transactionsKey}`, sha256: data.sha256, rows: data.rows, badLines: data.badLines } });

        status.step = 'training';
        const heartbeat = input.training?.heartbeatTimeoutSeconds;
        const { trainModel } = proxyActivities<TrainingActivities>(
          heartbeat ? { ...trainModelOptions, heartbeatTimeout: `${heartbeat}s` } : trainModelOptions,
        );
        const candidate = await trainModel({
          data,
          options: input.training ?? {},
          candidatePrefix: `candidates/${info.workflowId}/${info.runId}`,
        });
        status.candidate = candidate;
        upsertSearchAttributes([{ key: HIT_RATE_10, value: candidate.metrics.hitRate10 }]);
        upsertMemo({ metrics: candidate.metrics });

        status.step = 'gating';
        // From here to the commit, one run at a time (runs started by hand
        // too); runs recorded before this lock existed replay without it.
        if (patched('deploy-lock')) {
          await acquireDeployLock();
          locked = true;
        }
        const state = await getDeploymentState();
        status.active = state.active && { slot: state.active.slot, version: state.active.version };
        const gate = qualityGate(candidate.metrics, state.active?.metrics, input.gate);
        status.gate = gate;
        upsertMemo({ gate: gate.reason });
        if (!gate.deploy) return finish('rejected', gate.reason);

        status.step = 'exporting';
        const version = state.maxVersion + 1;
        status.version = version;
        status.standbySlot = state.standbySlot;
        upsertSearchAttributes([
          { key: MODEL_VERSION, value: version },
          { key: SLOT, value: state.standbySlot },
        ]);
        exported = await exportSavedModel({ candidate, slot: state.standbySlot, version });

        status.step = 'waiting-for-standby';
        const timeout = input.readinessTimeoutSeconds ?? DEFAULT_READINESS_TIMEOUT_SECONDS;
        const { waitForStandbyReady } = proxyActivities<ServingActivities>(
          readinessOptions(input.servingTaskQueue ?? DEFAULT_SERVING_TASK_QUEUE, timeout),
        );
        let ready;
        try {
          ready = await waitForStandbyReady({ slot: exported.slot, version, deadlineMs: Date.now() + timeout * 1000 });
        } catch (err) {
          if (isCancellation(err)) throw err;
          await cleanUp();
          const cause = err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
          const reason = `standby slot ${exported.slot} did not serve version ${version}: ${cause}; the active slot keeps serving`;
          finish('failed', reason);
          throw ApplicationFailure.nonRetryable(reason, 'StandbyNotReady');
        }

        status.step = 'publishing';
        await publishModelUrl({
          slot: exported.slot,
          version,
          url: ready.predictUrl,
          key: `${exported.slot}/${version}`,
          description: `version ${version} of ${info.workflowType} run ${info.workflowId}; HR@10 ${candidate.metrics.hitRate10.toFixed(4)}`,
        });
        published = true;

        // Once the URL is out, the registry must follow even if a cancel arrives.
        status.step = 'committing';
        const after = await CancellationScope.nonCancellable(() =>
          commitActiveSlot({ slot: exported!.slot, version, url: ready.predictUrl, metrics: candidate.metrics, kind: 'deploy' }),
        );
        status.active = after.active && { slot: after.active.slot, version: after.active.version };
        status.standbySlot = after.standbySlot;
        const result = finish('deployed', `version ${version} serves from slot ${exported.slot}; ${gate.reason}`);
        return { ...result, slot: exported.slot, url: ready.predictUrl };
      });
    } catch (err) {
      if (isCancellation(err)) {
        await cleanUp();
        const reason = cancelReason ?? 'workflow cancelled';
        const result = finish('cancelled', reason);
        // A cancel through the update completes the run with outcome "cancelled";
        // a cancel through Temporal's own API keeps Temporal's cancelled status.
        if (cancelReason) return result;
        throw err;
      }
      if (status.outcome !== 'failed') {
        await cleanUp();
        finish('failed', err instanceof Error ? err.message : String(err));
      }
      throw err;
    }
  } finally {
    if (locked) await CancellationScope.nonCancellable(() => releaseDeployLock());
  }
}
