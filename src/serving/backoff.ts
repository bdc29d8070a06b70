/**
 * The serving side's one back-off: doubling delays, with full jitter where
 * several clients retry against one slot (model servers), without where one
 * poller waits for one slot (readiness). Sleeps are node:timers/promises'
 * (abortable).
 */
import { setTimeout as delay } from 'node:timers/promises';

export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
}

/** d = min(max, initial·2^attempt) for retry number `attempt` (0-based): the delay without jitter. */
export function backoffCeiling(attempt: number, policy: BackoffPolicy): number {
  return Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(attempt, 30));
}

/**
 * Delay before retry number `attempt` (0-based): "full jitter", a random
 * value in [0, d] with d = backoffCeiling(attempt). The jitter keeps
 * several model servers from hammering a recovering slot in lock-step.
 */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  return Math.round(random() * backoffCeiling(attempt, policy));
}

/** Resolves after `ms`, or early (to false) when the signal aborts; true when the full time passed. */
export async function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  try {
    await delay(ms, undefined, { signal });
    return true;
  } catch (err) {
    if ((err as Error).name === 'AbortError') return false;
    throw err;
  }
}
