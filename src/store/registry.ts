/**
 * The deployment registry: one JSON object in the models bucket with the
 * full history of deployments, plus the seed's `data/recommender/directory.txt`
 * (the slot that the next model goes to) kept in step for compatibility.
 *
 * Writes are conditional on the object's ETag (If-Match / If-None-Match):
 * two writers that overlap never overwrite each other; the one that lost
 * re-reads and appends again. The workflow is handed only what it needs
 * (active, standby, the last RECENT_DEPLOYMENTS): its history stays small
 * however long the registry grows.
 *
 * A write under the deploy lease is fenced (RegistryFence): it carries the
 * lease generation its run took; the document keeps the newest generation
 * that wrote, and a writer whose generation is older, or who does not hold
 * the lease at its generation right before the write, is refused with
 * LeaseFencedError (store/lease.ts) and writes nothing.
 */
import type { Client } from 'minio';
import type { VersionFigures } from '../evaluation/figures';
import type { ModelMetrics } from '../ml/model-metrics';
import type { Config } from '../config';
import { historyKeys } from './layout';
import { LeaseFencedError } from './lease';
import { listClaimedVersions, listVersions } from './publish';
import { readVersioned, writeIfUnchanged } from './versioned-object';

/** One recorded deployment (or rollback): which version of which slot served from when, and how it scored. */
export interface Deployment {
  slot: string;
  version: number;
  url: string;
  metrics: ModelMetrics;
  workflowId: string;
  runId: string;
  deployedAt: string;
  /** `reconcile`: recorded from the models topic, whose run published and never committed (activities/reconcile.ts) */
  kind: 'deploy' | 'rollback' | 'reconcile';
  /** how the version did with real customers while it served (docs/design.md, "Quality out"), recorded when it was replaced */
  online?: OnlineRecord;
}

/** A deployment's online figures, as the evaluator group had them when they were recorded. */
export interface OnlineRecord {
  group: string;
  recordedAt: string;
  figures: VersionFigures;
}

/** What the registry in MinIO says now. */
export interface DeploymentState {
  active: Deployment | null;
  /** the slot that is not serving: where the next model goes */
  standbySlot: string;
  /** largest version found in any slot or in the registry (0 when none) */
  maxVersion: number;
  /** the last few deployments, oldest first (the registry in MinIO keeps them all) */
  history: Deployment[];
  /** how many deployments the registry holds in all (absent from states recorded before it was kept) */
  recorded?: number;
}

/** Where the configured registry lives. */
export function registryLocation(cfg: Pick<Config, 'buckets' | 'registryKey' | 'dataPrefix' | 'slots'>): RegistryLocation {
  return {
    modelsBucket: cfg.buckets.models,
    registryKey: cfg.registryKey,
    dataBucket: cfg.buckets.data,
    dataPrefix: cfg.dataPrefix,
    slots: [cfg.slots[0].name, cfg.slots[1].name],
  };
}

export interface RegistryLocation {
  modelsBucket: string;
  registryKey: string;
  dataBucket: string;
  dataPrefix: string;
  slots: [string, string];
}

interface RegistryDocument {
  history: Deployment[];
  /** the newest deploy-lease generation that wrote (absent before fencing) */
  leaseGeneration?: number;
}

/** The writer's lease generation, and the check that it still holds the lease at it (DeployLease.checkFence). */
export interface RegistryFence {
  generation: number;
  check: () => Promise<void>;
}

/** deployments handed to the workflow (enough for a rollback to look back) */
export const RECENT_DEPLOYMENTS = 20;

function parseDocument(body: Buffer, loc: RegistryLocation): RegistryDocument {
  let doc: RegistryDocument;
  try {
    doc = JSON.parse(body.toString('utf8')) as RegistryDocument;
  } catch (err) {
    throw new Error(`${loc.modelsBucket}/${loc.registryKey} is not valid JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(doc.history)) throw new Error(`${loc.modelsBucket}/${loc.registryKey}: "history" is not a list`);
  const generation = doc.leaseGeneration;
  return {
    history: doc.history,
    ...(typeof generation === 'number' && Number.isSafeInteger(generation) && { leaseGeneration: generation }),
  };
}

/** Every deployment ever recorded, oldest first, with the version (ETag) read; null when there is no registry yet. */
async function readRegistry(client: Client, loc: RegistryLocation): Promise<RegistryDocument & { etag: string | null }> {
  const v = await readVersioned(client, loc.modelsBucket, loc.registryKey);
  return v ? { ...parseDocument(v.body, loc), etag: v.etag } : { history: [], etag: null };
}

/** Refuses a fenced write whose generation is older than one that already wrote, or whose lease is gone. */
async function checkFence(doc: RegistryDocument, fence: RegistryFence | undefined, loc: RegistryLocation): Promise<void> {
  if (!fence) return;
  if ((doc.leaseGeneration ?? 0) > fence.generation) {
    throw new LeaseFencedError(
      `${loc.modelsBucket}/${loc.registryKey} was written under deploy-lease generation ${doc.leaseGeneration}; ` +
        `a write under generation ${fence.generation} (a holder whose lease expired and was taken over) is refused`,
    );
  }
  await fence.check();
}

/** The full history (for operators and tests; the workflow gets readDeploymentState). */
export async function readFullHistory(client: Client, loc: RegistryLocation): Promise<Deployment[]> {
  return (await readRegistry(client, loc)).history;
}

export function otherSlot(slots: [string, string], slot: string): string {
  return slot === slots[0] ? slots[1] : slots[0];
}

function stateOf(history: Deployment[], loc: RegistryLocation, slotVersions: number[]): DeploymentState {
  const active = history.at(-1) ?? null;
  const maxVersion = Math.max(0, ...slotVersions, ...history.map((d) => d.version));
  return {
    active,
    standbySlot: active ? otherSlot(loc.slots, active.slot) : loc.slots[0],
    maxVersion,
    history: history.slice(-RECENT_DEPLOYMENTS),
    recorded: history.length,
  };
}

async function slotVersions(client: Client, loc: RegistryLocation): Promise<number[]> {
  // claimed versions count too: a removed (failed) version's number is never reused
  return (
    await Promise.all(
      loc.slots.flatMap((s) => [listVersions(client, loc.modelsBucket, s), listClaimedVersions(client, loc.modelsBucket, s)]),
    )
  ).flat();
}

export async function readDeploymentState(client: Client, loc: RegistryLocation): Promise<DeploymentState> {
  const [{ history }, versions] = await Promise.all([readRegistry(client, loc), slotVersions(client, loc)]);
  return stateOf(history, loc, versions);
}

const sameRecord = (a: Deployment, b: Deployment) =>
  a.slot === b.slot && a.version === b.version && a.runId === b.runId && a.kind === b.kind;

/**
 * Appends a deployment (idempotent: the same workflow run recording the same
 * slot/version again changes nothing) and flips directory.txt to the new
 * standby. A concurrent writer is detected by the conditional write and the
 * append retried on what it wrote. With `fence`, refused (LeaseFencedError)
 * unless the writer's lease generation is current.
 */
export async function recordDeployment(
  client: Client,
  loc: RegistryLocation,
  deployment: Deployment,
  fence?: RegistryFence,
  /** the online figures of the deployment this one replaces, written on its record in the same write */
  replacedOnline?: OnlineRecord,
): Promise<DeploymentState> {
  let history: Deployment[];
  for (let attempt = 1; ; attempt++) {
    const current = await readRegistry(client, loc);
    history = current.history;
    // a retried activity whose first write went through: it is among the last few records
    if (history.slice(-RECENT_DEPLOYMENTS).some((d) => sameRecord(d, deployment))) break;
    await checkFence(current, fence, loc);
    if (replacedOnline) withOnline(history, replacedOnline);
    history.push(deployment);
    const leaseGeneration = Math.max(current.leaseGeneration ?? 0, fence?.generation ?? 0);
    const body = Buffer.from(JSON.stringify({ history, ...(leaseGeneration > 0 && { leaseGeneration }) } satisfies RegistryDocument));
    if (await writeIfUnchanged(client, loc.modelsBucket, loc.registryKey, body, current.etag)) break;
    if (attempt >= 20) throw new Error(`${loc.modelsBucket}/${loc.registryKey} kept changing under 20 attempts to record a deployment`);
  }
  // directory.txt follows the registry's newest entry (not necessarily ours, if another was recorded after it)
  const standby = otherSlot(loc.slots, history.at(-1)!.slot);
  await client.putObject(loc.dataBucket, historyKeys(loc.dataPrefix).directory, Buffer.from(standby), undefined, {
    'Content-Type': 'text/plain',
  });
  return stateOf(history, loc, await slotVersions(client, loc));
}

/**
 * Records a version's online figures on its newest deployment record (the
 * one being replaced); conditional like recordDeployment. False when the
 * registry has no record of that slot and version.
 */
/** Sets `online` on the newest record of its slot and version; false when there is none. */
function withOnline(history: Deployment[], online: OnlineRecord): boolean {
  const { slot, version } = online.figures;
  const record = [...history].reverse().find((d) => d.slot === slot && d.version === version);
  if (record) record.online = online;
  return record !== undefined;
}

export async function recordOnlineFigures(client: Client, loc: RegistryLocation, online: OnlineRecord): Promise<boolean> {
  for (let attempt = 1; ; attempt++) {
    const current = await readRegistry(client, loc);
    if (!withOnline(current.history, online)) return false;
    // the fencing token stays: this write is no deployment, but it must not erase what the last one recorded
    const { leaseGeneration } = current;
    const body = Buffer.from(
      JSON.stringify({ history: current.history, ...(leaseGeneration && { leaseGeneration }) } satisfies RegistryDocument),
    );
    if (await writeIfUnchanged(client, loc.modelsBucket, loc.registryKey, body, current.etag)) return true;
    if (attempt >= 20) throw new Error(`${loc.modelsBucket}/${loc.registryKey} kept changing under 20 attempts to record online figures`);
  }
}
