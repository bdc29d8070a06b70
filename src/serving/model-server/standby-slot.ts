/**
 * The standby slot and the version it serves: the configured slot other
 * than the active model's, asked through TF Serving's model-status REST
 * call (`GET /v1/models/<slot>`, which the slot implements). The answer is
 * kept for `ttlMs` (successes and failures alike), so the previous-model
 * shadows cost one status call per slot per `ttlMs`, not one per request.
 */
import { modelUrl, predictUrlFor } from '../../messaging/predict-url';
import type { AllowedSlot } from './current-model';

export interface StandbyModel {
  slot: string;
  version: number;
  predictUrl: string;
}

export type StandbyAnswer = { ok: true; model: StandbyModel } | { ok: false; reason: 'standby-unavailable'; detail: string };

/** The standby of the slot serving now (`activeSlot`): its newest AVAILABLE version, or why there is none. */
export type StandbyLookup = (activeSlot: string) => Promise<StandbyAnswer>;

interface StatusBody {
  model_version_status?: { version?: unknown; state?: unknown }[];
}

/** The newest version a status body lists as AVAILABLE, or undefined. */
export function availableVersion(body: unknown): number | undefined {
  const statuses = (body as StatusBody | null)?.model_version_status;
  if (!Array.isArray(statuses)) return undefined;
  const versions = statuses.filter((s) => s.state === 'AVAILABLE').map((s) => Number(s.version));
  const valid = versions.filter((v) => Number.isSafeInteger(v) && v > 0);
  return valid.length ? Math.max(...valid) : undefined;
}

async function askSlot(slot: AllowedSlot, timeoutMs: number): Promise<StandbyAnswer> {
  const url = modelUrl(slot.baseUrl, slot.name);
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    const body: unknown = await res.json().catch(() => undefined);
    const version = res.ok ? availableVersion(body) : undefined;
    if (version === undefined)
      return { ok: false, reason: 'standby-unavailable', detail: `${url}: HTTP ${res.status}, no AVAILABLE version` };
    return { ok: true, model: { slot: slot.name, version, predictUrl: predictUrlFor(slot.baseUrl, slot.name, version) } };
  } catch (err) {
    return { ok: false, reason: 'standby-unavailable', detail: `${url}: ${(err as Error).message}` };
  }
}

export function standbyLookup(
  slots: readonly AllowedSlot[],
  options: { ttlMs?: number; timeoutMs?: number; now?: () => number } = {},
): StandbyLookup {
  const ttlMs = options.ttlMs ?? 2_000;
  const timeoutMs = options.timeoutMs ?? 1_000;
  const now = options.now ?? Date.now;
  const cache = new Map<string, { at: number; answer: Promise<StandbyAnswer> }>();
  return (activeSlot) => {
    const standby = slots.find((s) => s.name !== activeSlot);
    if (!standby) return Promise.resolve({ ok: false, reason: 'standby-unavailable', detail: `no configured slot besides ${activeSlot}` });
    const hit = cache.get(standby.name);
    if (hit && now() - hit.at < ttlMs) return hit.answer;
    const answer = askSlot(standby, timeoutMs);
    cache.set(standby.name, { at: now(), answer });
    return answer;
  };
}
