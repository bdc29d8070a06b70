/** Exponential back-off with full jitter. Sleeps are node:timers/promises' (abortable). */
import { setTimeout as delay } from 'node:timers/promises';

export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
}

/**
 * Delay before retry number `attempt` (0-based): "full jitter", a random
 * value in [0, d] with d = min(max, initial·2^attempt). The jitter keeps
 * several model servers from hammering a recovering slot in lock-step.
 */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(random() * ceiling);
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
