/**
 * Every failure type that crosses Temporal (an ApplicationFailure's `type`,
 * shown in the web UI and matched by retry policies), defined once. Pure:
 * workflow code imports it too.
 */
export const FailureType = {
  /** the input (workflow input, purchase history, candidate, training options) is wrong: another attempt sees the same */
  BadInput: 'BadInputError',
  /** the worker's configuration is wrong (e.g. an unknown slot) */
  Config: 'ConfigError',
  /** another run holds the deploy lease: retried with back-off until it is free */
  DeployLockHeld: 'DeployLockHeld',
  /** this run's lease expired and another run took it: it must not go on deploying */
  DeployLockLost: 'DeployLockLost',
  /** the version number was taken by other files */
  VersionExists: 'VersionExistsError',
  /** the standby did not serve the version before the deadline */
  ReadinessDeadline: 'ReadinessDeadlineError',
  /** there is no earlier deployment a rollback could serve again */
  RollbackImpossible: 'RollbackImpossible',
  /** the training child process ended (crashed, killed) without a result: retried, possibly on another worker */
  TrainingProcessDied: 'TrainingProcessDied',
  /** the standby tried and failed to load the version */
  VersionLoadFailed: 'VersionLoadFailedError',
} as const;

export type FailureType = (typeof FailureType)[keyof typeof FailureType];

/** Failures no activity retries: the next attempt would fail the same way. */
export const NON_RETRYABLE_FAILURES: readonly FailureType[] = [FailureType.BadInput, FailureType.Config, FailureType.DeployLockLost];

/** The readiness check also gives up at once when the slot cannot serve the version. */
export const NON_RETRYABLE_READINESS_FAILURES: readonly FailureType[] = [
  ...NON_RETRYABLE_FAILURES,
  FailureType.ReadinessDeadline,
  FailureType.VersionLoadFailed,
];
