/** Builds the training worker's activities from injected clients. */
import type { TrainingActivities } from '../workflows/activity-interfaces';
import type { ActivityDeps } from './deps';
import { publishActivities } from './publish';
import { registryActivities } from './registry';

export function createActivities(deps: ActivityDeps): Partial<TrainingActivities> {
  return {
    ...registryActivities(deps),
    ...publishActivities(deps),
  };
}
