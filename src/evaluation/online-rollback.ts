/**
 * The online rollback policy (opt-in: ONLINE_ROLLBACK_MIN_PAIRS > 0; off by
 * default, on in the demo): when the ACTIVE version's online HR@10, over at
 * least that many purchases that also have the previous model's shadow
 * answer, is below that shadow's on the same purchases with 95 %
 * confidence (the paired uplift's upper bound < 0), start
 * `rollbackDeployment` with the evidence. Once per version: the workflow id
 * is derived from the slot and version and refused when used before
 * (REJECT_DUPLICATE), so several evaluator instances and restarts start it
 * at most once; `onlyIfActive` makes a run started after a newer deploy
 * change nothing.
 */
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { Client as MinioClient } from 'minio';
import type { Config } from '../config';
import { errorText, type Log } from '../process/json-log';
import { onlineFiguresOf, type OnlineStore } from '../store/online-figures';
import { readDeploymentState, registryLocation } from '../store/registry';
import { rollbackMetadata } from '../cli/workflow-input';
import { rollbackDeployment } from '../workflows';
import type { RollbackInput } from '../workflows/types';
import { uplift, wilson, type VersionFigures } from './figures';

const pct = (x: number) => `${(100 * x).toFixed(1)} %`;

/** The evidence against `f`'s version, or undefined while there is not enough of it. */
export function rollbackEvidence(f: VersionFigures, minPairs: number): string | undefined {
  const prev = f.shadows['previous-model'];
  if (prev.paired < minPairs) return undefined;
  const u = uplift(prev);
  if (!u || !(u.high < 0)) return undefined;
  return (
    `version ${f.version} (slot ${f.slot}): online HR@10 ${pct(prev.modelHits / prev.paired)} vs the previous model's ` +
    `${pct(prev.shadowHits / prev.paired)} on the same ${prev.paired} followed purchases ` +
    `(uplift ${pct(u.estimate)}, 95 % interval ${pct(u.low)} … ${pct(u.high)})`
  );
}

/** The evidence as a Markdown table for the rollback's static details. */
function evidenceTable(f: VersionFigures): string {
  const prev = f.shadows['previous-model'];
  const hr = wilson(f.hits, f.followed);
  return [
    '| version | requests | followed purchases | online HR@10 (95 %) | pairs with the previous model | its HR@10 on them | uplift |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    `| ${f.slot}/${f.version} | ${f.requests} | ${f.followed} | ${hr ? `${pct(hr.estimate)} (${pct(hr.low)} … ${pct(hr.high)})` : 'n/a'} | ` +
      `${prev.paired} | ${prev.paired ? pct(prev.shadowHits / prev.paired) : 'n/a'} | ${prev.paired ? pct((prev.modelOnly - prev.shadowOnly) / prev.paired) : 'n/a'} |`,
  ].join('\n');
}

export const onlineRollbackId = (slot: string, version: number) => `recommender-online-rollback-${slot}-v${version}`;

export interface PolicyDeps {
  config: Config;
  minio: MinioClient;
  temporal: Client;
  store: OnlineStore;
  log: Log;
}

/** One check: reads the registry's active version and its figures; starts the rollback when the evidence holds. */
export async function checkOnlineRollback(deps: PolicyDeps): Promise<string | undefined> {
  const { config, minio, temporal, store, log } = deps;
  const { active } = await readDeploymentState(minio, registryLocation(config));
  if (!active) return undefined;
  const figures = await onlineFiguresOf(store, active.slot, active.version);
  const evidence = rollbackEvidence(figures, config.onlineRollback.minPairs);
  if (!evidence) return undefined;
  const input: RollbackInput = {
    servingTaskQueue: config.temporal.taskQueues.serving,
    evidence,
    onlyIfActive: { slot: active.slot, version: active.version },
  };
  const workflowId = onlineRollbackId(active.slot, active.version);
  try {
    await temporal.workflow.start(rollbackDeployment, {
      taskQueue: config.temporal.taskQueues.training,
      workflowId,
      args: [input],
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      ...rollbackMetadata(input, evidenceTable(figures)),
    });
    log('warn', 'online evidence against the active version: rollback started', { workflowId, evidence });
    return workflowId;
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return undefined; // once per version
    throw err;
  }
}

/** Checks every `everyMs` until stopped; a failed check is logged and tried again at the next tick. */
export function startOnlineRollbackPolicy(deps: PolicyDeps, everyMs: number): { stop(): void } {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    checkOnlineRollback(deps)
      .catch((err: unknown) => deps.log('warn', 'online rollback check failed', { error: errorText(err) }))
      .finally(() => (running = false));
  }, everyMs);
  return { stop: () => clearInterval(timer) };
}
