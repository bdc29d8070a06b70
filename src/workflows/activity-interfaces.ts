/**
 * The activities the workflows call, typed from the code that implements
 * them (type-only imports: the workflow bundle never loads activity code,
 * it runs in the deterministic sandbox).
 */
import type { createActivities } from '../activities';
import type { servingActivities } from '../serving/activities';

/** Hosted by the training worker on the training task queue. */
export type TrainingActivities = ReturnType<typeof createActivities>;

/** Hosted by the serving worker on the serving task queue (next to the slots). */
export type ServingActivities = ReturnType<typeof servingActivities>;
