/** Builds the training worker's activities from injected clients. */
import type { TrainingActivities } from '../workflows/activity-interfaces';
import { dataActivities } from './data';
import type { ActivityDeps } from './deps';
import { exportActivities } from './export';
import { publishActivities } from './publish';
import { registryActivities } from './registry';
import { retentionActivities } from './retention';
import { trainActivities } from './train';

export function createActivities(deps: ActivityDeps): TrainingActivities {
  return {
    ...dataActivities(deps),
    ...trainActivities(deps),
    ...exportActivities(deps),
    ...registryActivities(deps),
    ...publishActivities(deps),
    ...retentionActivities(deps),
  };
}
