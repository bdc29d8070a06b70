/**
 * The registry reconciled with what is served. The last valid descriptor on
 * the `models` topic is what the model server serves (docs/design.md); a run
 * that published and then never committed (its commit exhausted its
 * retries, or it was terminated in between) leaves the registry naming the
 * other slot as active, and the next run would export into the live slot.
 * Before a run chooses its standby, the registry is brought in line with the
 * topic: the served version is recorded as active (kind `reconcile`).
 *
 * Only a descriptor that could have been served counts: a configured slot's
 * predict URL naming a claimed, complete version in the store. A forged or
 * squatting descriptor changes nothing.
 */
import { readDescriptors, type PublishedDescriptor } from '../messaging/model-descriptors';
import { parsePredictUrl } from '../messaging/predict-url';
import type { ModelMetrics } from '../ml/model-metrics';
import { completeVersionFiles } from '../store';
import { readDeploymentState, recordDeployment, registryLocation, type DeploymentState } from '../store/registry';
import type { ActivityDeps } from './deps';

export interface ServedVersion {
  slot: string;
  version: number;
  url: string;
  descriptor: PublishedDescriptor;
}

/** The newest descriptor that names a configured slot's complete version, if any. */
export async function lastServedVersion(deps: ActivityDeps): Promise<ServedVersion | undefined> {
  const descriptors = await readDescriptors(deps.kafka, deps.config.topics.models);
  for (const d of [...descriptors].sort(newestFirst)) {
    const target = parsePredictUrl(d.descriptor.url);
    const slot = deps.config.slots.find((s) => s.name === target?.slot);
    if (!target || target.version === null || !slot) continue;
    if (new URL(d.descriptor.url).origin !== new URL(slot.baseUrl).origin) continue;
    if (!(await completeVersionFiles(deps.minio, deps.config.buckets.models, slot.name, target.version))) continue;
    return { slot: slot.name, version: target.version, url: d.descriptor.url, descriptor: d };
  }
  return undefined;
}

/** The topic's single partition keeps order; across partitions the broker's timestamp decides. */
function newestFirst(a: PublishedDescriptor, b: PublishedDescriptor): number {
  if (a.partition === b.partition) return Number(BigInt(b.offset) - BigInt(a.offset));
  return b.timestamp - a.timestamp;
}

/** The deployment state, after recording the served version as active when the registry says otherwise. */
export async function reconciledDeploymentState(
  deps: ActivityDeps,
  warn: (message: string, meta: Record<string, unknown>) => void,
): Promise<DeploymentState> {
  const loc = registryLocation(deps.config);
  const state = await readDeploymentState(deps.minio, loc);
  const served = await lastServedVersion(deps);
  if (!served || (state.active?.slot === served.slot && state.active.version === served.version)) return state;
  warn('the registry disagrees with the models topic: recording the served version as active', {
    registryActive: state.active && `${state.active.slot}/${state.active.version}`,
    served: `${served.slot}/${served.version}`,
    descriptor: `${deps.config.topics.models}:${served.descriptor.partition}:${served.descriptor.offset}`,
  });
  const known = state.history.find((d) => d.slot === served.slot && d.version === served.version);
  return recordDeployment(deps.minio, loc, {
    slot: served.slot,
    version: served.version,
    url: served.url,
    metrics: known?.metrics ?? unknownMetrics(),
    workflowId: `reconciled from ${deps.config.topics.models}`,
    runId: `${served.descriptor.partition}:${served.descriptor.offset}`,
    deployedAt: new Date(served.descriptor.timestamp).toISOString(),
    kind: 'reconcile',
  });
}

/** A version whose run never recorded it: its held-out figures are not known here (the gate scores it on the candidate's split). */
function unknownMetrics(): ModelMetrics {
  return {
    objective: 'linear',
    hitRate10: 0,
    ndcg10: 0,
    popularityHitRate10: 0,
    popularityNdcg10: 0,
    valLoss: 0,
    rmse: 0,
    evaluatedUsers: 0,
    protocol: 'unknown: recorded from the models topic after its run published without committing',
  };
}
