/**
 * The store's layout: every object key of the data and models buckets is
 * named here and nowhere else (docs/design.md, "Where each object lives").
 * Pure string functions, no I/O, so that workflow code may import it too;
 * the modules of src/store/ read and write what these keys name.
 *
 * Data bucket, under the data prefix (`recommender` by default):
 *   <prefix>/transactions.csv        the purchase history (line order = purchase order)
 *   <prefix>/users.csv               customer ids
 *   <prefix>/generation.json         how generated data was made (scale tests)
 *   <prefix>/directory.txt           the slot the seed's clients read (the active one)
 *
 * Models bucket:
 *   <slot>/<version>/…               a SavedModel version, what TF Serving polls
 *   <slot>/_claims/<version>.json    the claim of a version (its files' digests)
 *   <slot>/_staging-<version>-<n>/   a version's files while they are published
 *   lineage/<slot>/<version>/…       what a version was trained from and how it scored
 *   candidates/<workflowId>/<runId>/ a run's trained candidate before export
 *   registry/deployments.json        the deployment registry (configurable key)
 *   registry/deploy.lock             the deploy lease, beside the registry
 */

/** A version directory name: a positive integer of at most 16 digits, no leading zero; anything else is ignored. */
export const VERSION_NAME = /^[1-9][0-9]{0,15}$/;

/** A slot name is one path segment: it becomes a key prefix and a TF Serving model name. */
const SLOT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** The version numbers among directory names, ascending (any other name is ignored). */
export function versionNumbers(names: readonly string[]): number[] {
  return names
    .filter((n) => VERSION_NAME.test(n))
    .map(Number)
    .filter(Number.isSafeInteger)
    .sort((a, b) => a - b);
}

// ---- data bucket ----

export interface HistoryKeys {
  transactions: string;
  users: string;
  generation: string;
  /** the seed's `directory.txt`: the active slot's name */
  directory: string;
}

/** The history's objects under the data prefix. */
export function historyKeys(dataPrefix: string): HistoryKeys {
  const p = dataPrefix.replace(/\/+$/, '');
  return {
    transactions: `${p}/transactions.csv`,
    users: `${p}/users.csv`,
    generation: `${p}/generation.json`,
    directory: `${p}/directory.txt`,
  };
}

// ---- models bucket: versions ----

export const CLAIMS_DIR = '_claims';
export const STAGING_DIR_PREFIX = '_staging-';

export function validateSlotName(slot: string): void {
  if (!SLOT_NAME.test(slot))
    throw new Error(`invalid slot name ${JSON.stringify(slot)}: letters, digits, '.', '_', '-', not starting with a symbol`);
}

/** `<slot>/<version>/`: a version's directory. */
export function versionPrefix(slot: string, version: number): string {
  validateSlotName(slot);
  return `${slot}/${version}/`;
}

/** `<slot>/`: every version directory, claim and staging prefix of a slot. */
export function slotPrefix(slot: string): string {
  validateSlotName(slot);
  return `${slot}/`;
}

/** `<slot>/<name>/`: a directory directly under the slot (a version, the claims, a staging directory). */
export function slotDirPrefix(slot: string, name: string): string {
  return `${slotPrefix(slot)}${name}/`;
}

/** `<slot>/_claims/`: where a slot's version claims live. */
export function claimsPrefix(slot: string): string {
  return `${slotPrefix(slot)}${CLAIMS_DIR}/`;
}

export function claimKey(slot: string, version: number): string {
  return `${claimsPrefix(slot)}${version}.json`;
}

/** `<slot>/_staging-<version>-<nonce>/`: a non-numeric directory TF Serving ignores. */
export function stagingPrefix(slot: string, version: number, nonce: string): string {
  return `${slotPrefix(slot)}${STAGING_DIR_PREFIX}${version}-${nonce}/`;
}

/** Whether a directory name under `<slot>/` is a staging directory. */
export const isStagingDir = (name: string): boolean => name.startsWith(STAGING_DIR_PREFIX);

// ---- models bucket: lineage ----

export const LINEAGE_ROOT = 'lineage';
export const LINEAGE_METADATA_FILE = 'metadata.json';

/** `lineage/<slot>/`: every lineage record of a slot (`root` for tests' private prefixes). */
export function lineageSlotPrefix(slot: string, root: string = LINEAGE_ROOT): string {
  const r = root.replace(/\/+$/, '');
  if (r === '' || r === slot) throw new Error(`lineage prefix ${JSON.stringify(r)} must be non-empty and differ from the slot`);
  validateSlotName(slot);
  return `${r}/${slot}/`;
}

/** `lineage/<slot>/<version>/` */
export function lineagePrefix(slot: string, version: number, root: string = LINEAGE_ROOT): string {
  return `${lineageSlotPrefix(slot, root)}${version}/`;
}

/** The lineage document the model server reads the popularity ranking from. */
export function lineageMetadataKey(slot: string, version: number, root: string = LINEAGE_ROOT): string {
  return `${lineagePrefix(slot, version, root)}${LINEAGE_METADATA_FILE}`;
}

// ---- models bucket: candidates ----

export const CANDIDATES_PREFIX = 'candidates/';

/** `candidates/<workflowId>/<runId>`: one run's candidate (no trailing slash; files are `<prefix>/<name>`). */
export function candidatePrefix(workflowId: string, runId: string, root: string = CANDIDATES_PREFIX): string {
  return `${root}${workflowId}/${runId}`;
}

/**
 * The run a candidate directory (`<root><workflowId>/<runId>/`) belongs to;
 * undefined for objects outside that layout. Workflow ids may hold '/', run ids do not.
 */
export function candidateRunOf(root: string, dir: string): { workflowId: string; runId: string } | undefined {
  const path = dir.slice(root.length).replace(/\/$/, '');
  const cut = path.lastIndexOf('/');
  return cut > 0 ? { workflowId: path.slice(0, cut), runId: path.slice(cut + 1) } : undefined;
}

/** A candidate file's key. */
export const candidateFileKey = (prefix: string, name: string): string => `${prefix}/${name}`;

// ---- models bucket: registry and lease ----

export const DEFAULT_REGISTRY_KEY = 'registry/deployments.json';

/** The deploy lease: `deploy.lock` beside the registry object. */
export function leaseKey(registryKey: string): string {
  const slash = registryKey.lastIndexOf('/');
  return slash < 0 ? 'deploy.lock' : `${registryKey.slice(0, slash)}/deploy.lock`;
}
