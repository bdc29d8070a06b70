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
 *   <prefix>/segments/…, histories/…, history.json   ingested purchases (see the last section)
 *
 * Models bucket:
 *   <slot>/<version>/…               a SavedModel version, what TF Serving polls
 *   <slot>/_claims/<version>.json    the claim of a version (its files' digests)
 *   <slot>/_claims/_changed.json     the slot's change marker: rewritten after every publish and removal
 *   <slot>/_staging-<version>-<n>/   a version's files while they are published
 *   lineage/<slot>/<version>/…       what a version was trained from and how it scored
 *   candidates/<workflowId>/<runId>/ a run's trained candidate before export
 *   registry/deployments.json        the deployment registry (configurable key)
 *   registry/deploy.lock             the deploy lease, beside the registry
 *   online/<group>/<partition>.json  the online evaluator's checkpoint head of one partition: its
 *                                    offsets, fronts, figures per version and list of state chunks
 *   online/<group>/state-<partition>/<name>.json  an immutable state chunk a head lists
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

/**
 * `<slot>/_claims/_changed.json`: rewritten after each version is completed or
 * removed, so that a slot polls this one object instead of every claim (not a
 * version name, so claim listings ignore it).
 */
export function slotChangeKey(slot: string): string {
  return `${claimsPrefix(slot)}_changed.json`;
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

/** The registry of one `npm run demo` run (its deploy lease beside it): the user's deployments stay untouched. */
export const demoRegistryKey = (runStamp: string): string => `registry/demo-${runStamp}/deployments.json`;

/** The deploy lease: `deploy.lock` beside the registry object. */
export function leaseKey(registryKey: string): string {
  const slash = registryKey.lastIndexOf('/');
  return slash < 0 ? 'deploy.lock' : `${registryKey.slice(0, slash)}/deploy.lock`;
}

// ---- data bucket: ingested purchases (docs/design.md, "Purchases in") ----
//   <prefix>/segments/<topic>/<partition>/<first offset, 20 digits>.csv   an immutable segment
//   <prefix>/histories/<inputs digest>.csv                                a compacted history
//   <prefix>/histories/<inputs digest>.json                               its manifest (what it holds)
//   <prefix>/history.json                                                 the manifest: the newest compacted history
//   <prefix>/history-base.json                                            the rebase: what compaction starts from after segment retention

/** Offsets are int64: 19 digits at most, padded to 20 so that names sort as numbers. */
const OFFSET_DIGITS = 20;
const SEGMENT_NAME = /^(\d{20})\.csv$/;

const dataRoot = (dataPrefix: string): string => dataPrefix.replace(/\/+$/, '');

/** `<prefix>/segments/<topic>/`: every partition's segments of a topic. */
export function segmentsPrefix(dataPrefix: string, topic: string): string {
  return `${dataRoot(dataPrefix)}/segments/${topic}/`;
}

/** `<prefix>/segments/<topic>/<partition>/` */
export function segmentPartitionPrefix(dataPrefix: string, topic: string, partition: number): string {
  if (!Number.isInteger(partition) || partition < 0) throw new Error(`invalid partition ${partition}`);
  return `${segmentsPrefix(dataPrefix, topic)}${partition}/`;
}

/**
 * A segment is named by its first offset only (its last offset is in its
 * metadata): two writers that resume a partition at the same offset race
 * for the same name, whatever they buffered (docs/design.md).
 */
export function segmentKey(dataPrefix: string, topic: string, partition: number, firstOffset: bigint): string {
  if (firstOffset < 0n) throw new Error(`invalid offset ${firstOffset}`);
  return `${segmentPartitionPrefix(dataPrefix, topic, partition)}${firstOffset.toString().padStart(OFFSET_DIGITS, '0')}.csv`;
}

/** The first offset a segment key names, or undefined for any other key. */
export function segmentFirstOffset(key: string): bigint | undefined {
  const m = SEGMENT_NAME.exec(key.slice(key.lastIndexOf('/') + 1));
  return m ? BigInt(m[1]) : undefined;
}

/** The partition number of a directory name under segmentsPrefix, or undefined. */
export function segmentPartitionOf(name: string): number | undefined {
  return /^(0|[1-9]\d{0,8})$/.test(name) ? Number(name) : undefined;
}

/** `<prefix>/histories/<digest>.csv`: a compacted history, named by the digest of its inputs. */
export function compactedHistoryKey(dataPrefix: string, inputsDigest: string): string {
  if (!/^[0-9a-f]{64}$/.test(inputsDigest)) throw new Error(`invalid inputs digest ${JSON.stringify(inputsDigest)}`);
  return `${dataRoot(dataPrefix)}/histories/${inputsDigest}.csv`;
}

/** `<prefix>/histories/<digest>.json`: what a compacted history holds (its manifest, kept beside it). */
export function historyRecordKey(dataPrefix: string, inputsDigest: string): string {
  return compactedHistoryKey(dataPrefix, inputsDigest).replace(/\.csv$/, '.json');
}

/** The inputs digest of a compacted history key under `dataPrefix`, or undefined for any other key. */
export function compactedHistoryDigest(dataPrefix: string, key: string): string | undefined {
  const m = /^(.*)\/histories\/([0-9a-f]{64})\.csv$/.exec(key);
  return m && m[1] === dataRoot(dataPrefix) ? m[2] : undefined;
}

/** `<prefix>/history-base.json`: the compacted history that replaced the base and the segments retention removed (store/history-rebase.ts). */
export function historyRebaseKey(dataPrefix: string): string {
  return `${dataRoot(dataPrefix)}/history-base.json`;
}

/** `<prefix>/history.json`: which compacted history is the newest, and what it holds. */
export function historyManifestKey(dataPrefix: string): string {
  return `${dataRoot(dataPrefix)}/history.json`;
}

/**
 * `<prefix>/retrain-triggers/<history digest, or "none">[-<crossing>].json`: the one
 * data-triggered retrain of a crossing — the `crossing`-th multiple of the threshold
 * since that history (the active model's; without a crossing: the first).
 */
export function retrainTriggerKey(dataPrefix: string, sinceHistory: string, crossing = 1n): string {
  if (!/^([0-9a-f]{64}|none)$/.test(sinceHistory)) throw new Error(`invalid history digest ${JSON.stringify(sinceHistory)}`);
  if (crossing < 1n) throw new Error(`invalid crossing ${crossing}`);
  return `${dataRoot(dataPrefix)}/retrain-triggers/${sinceHistory}${crossing === 1n ? '' : `-${crossing}`}.json`;
}

/** `<prefix>/retrain-triggers/pending.json`: the latest data trigger, until the run it started takes it (src/store/trigger-record.ts). */
export function pendingTriggerKey(dataPrefix: string): string {
  return `${dataRoot(dataPrefix)}/retrain-triggers/pending.json`;
}

// ---- models bucket: the online evaluator (docs/design.md, "Quality out") ----

export const ONLINE_ROOT = 'online';

/** `online/<group>/`: every partition checkpoint of one evaluator group (their figures add up). */
export function onlineGroupPrefix(group: string): string {
  if (!/^[A-Za-z0-9._-]{1,200}$/.test(group)) throw new Error(`invalid evaluator group ${JSON.stringify(group)}`);
  return `${ONLINE_ROOT}/${group}/`;
}

/** `online/<group>/<partition>.json` */
export function onlineCheckpointKey(group: string, partition: number): string {
  if (!Number.isInteger(partition) || partition < 0) throw new Error(`invalid partition ${partition}`);
  return `${onlineGroupPrefix(group)}${partition}.json`;
}

/** The partition a checkpoint key names, or undefined for any other key. */
export function onlineCheckpointPartition(key: string): number | undefined {
  const m = /\/(0|[1-9]\d{0,8})\.json$/.exec(key);
  return m ? Number(m[1]) : undefined;
}

/** `online/<group>/state-<partition>/`: the state chunks of one partition's checkpoints. */
export function onlineChunkPrefix(group: string, partition: number): string {
  if (!Number.isInteger(partition) || partition < 0) throw new Error(`invalid partition ${partition}`);
  return `${onlineGroupPrefix(group)}state-${partition}/`;
}

/** `online/<group>/state-<partition>/<name>.json`; the name is unique per write (a chunk is never overwritten). */
export function onlineChunkKey(group: string, partition: number, name: string): string {
  if (!/^c[a-z0-9-]{1,100}$/.test(name)) throw new Error(`invalid state chunk name ${JSON.stringify(name)}`);
  return `${onlineChunkPrefix(group, partition)}${name}.json`;
}
