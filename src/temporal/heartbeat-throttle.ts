/**
 * How often a worker sends an activity's heartbeats, in one place: the worker
 * processes and the tests' workers use the same setting, so a test sees the
 * heartbeats the web UI sees.
 */
import type { WorkerOptions } from '@temporalio/worker';

export const HEARTBEAT_THROTTLE = {
  // Heartbeats carry training progress to the web UI: send them every few
  // seconds instead of the default (80% of the heartbeat timeout, 48 s for training).
  maxHeartbeatThrottleInterval: '3s',
} as const satisfies Partial<WorkerOptions>;
