/** Builds the training worker's activities from injected clients. */
import { dataActivities } from './data';
import type { ActivityDeps } from './deps';
import { exportActivities } from './export';
import { onlineActivities } from './online';
import { renewingLease } from './lease-renewal';
import { publishActivities } from './publish';
import { registryActivities } from './registry';
import { retentionActivities } from './retention';
import { trainActivities } from './train';

/** The training worker's activities; their types are what the workflows call (workflows/activity-interfaces.ts). */
export function createActivities(deps: ActivityDeps) {
  const activities = {
    ...dataActivities(deps),
    ...trainActivities(deps),
    ...exportActivities(deps),
    ...registryActivities(deps),
    ...publishActivities(deps),
    ...retentionActivities(deps),
    ...onlineActivities(deps),
  };
  // the steps that run under the deploy lease keep it alive while they work
  return {
    ...activities,
    exportSavedModel: renewingLease(deps, activities.exportSavedModel),
    publishModelUrl: renewingLease(deps, activities.publishModelUrl),
    commitActiveSlot: renewingLease(deps, activities.commitActiveSlot),
  };
}
