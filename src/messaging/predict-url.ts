/**
 * What a predict URL says about the model behind it. The `models` topic only
 * carries a URL (docs/design.md: `…/v1/models/{name}/versions/{v}:predict`), yet
 * results must name the model version and the popularity fallback must find
 * the slot's lineage: both come from the URL's path.
 */

export interface PredictTarget {
  /** TF Serving model name = the slot (e.g. `recommender1`) */
  slot: string;
  /** the pinned version, or null when the URL predicts with the slot's latest version */
  version: number | null;
}

const PATH = /\/v1\/models\/([^/:]+)(?:\/versions\/(\d+))?:predict$/;

/** Slot and version of a TF Serving predict URL, or undefined when the URL is not one. */
export function parsePredictUrl(url: string): PredictTarget | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return undefined;
  const match = PATH.exec(parsed.pathname);
  if (!match) return undefined;
  let slot: string;
  try {
    slot = decodeURIComponent(match[1]);
  } catch {
    // a bad percent-escape (`%E0`): not a URL a slot could have published
    return undefined;
  }
  const version = match[2] === undefined ? null : Number(match[2]);
  // A version beyond 2^53 cannot be named exactly as a JSON number: treat it as unknown.
  return { slot, version: version !== null && Number.isSafeInteger(version) ? version : null };
}

/**
 * `<base>/v1/models/<slot>[/versions/<version>]`: a model (or one version of
 * it) in TF Serving's REST API — its status; `:predict` and `/metadata` go after it.
 * The one place that builds these paths (the slot name is percent-encoded).
 */
export function modelUrl(baseUrl: string, slot: string, version?: number): string {
  const model = `${baseUrl.replace(/\/+$/, '')}/v1/models/${encodeURIComponent(slot)}`;
  return version === undefined ? model : `${model}/versions/${version}`;
}

/** The predict URL of `slot` version `version` under a slot's REST base URL (what the publisher writes). */
export function predictUrlFor(baseUrl: string, slot: string, version: number): string {
  return `${modelUrl(baseUrl, slot, version)}:predict`;
}
