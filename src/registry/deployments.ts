/**
 * The deployment registry: one JSON object in the models bucket with the
 * history of deployments, plus the seed's `data/recommender/directory.txt`
 * (the slot that the next model goes to) kept in step for compatibility.
 */
import type { Client } from 'minio';
import { getOptionalObject } from '../storage/objects';
import type { Deployment, DeploymentState } from '../workflows/types';
import { listClaimedVersions, listVersions } from '../model-store';

export interface RegistryLocation {
  modelsBucket: string;
  registryKey: string;
  dataBucket: string;
  dataPrefix: string;
  slots: [string, string];
}

interface RegistryDocument {
  history: Deployment[];
}

export async function readHistory(client: Client, loc: RegistryLocation): Promise<Deployment[]> {
  const bytes = await getOptionalObject(client, loc.modelsBucket, loc.registryKey);
  if (!bytes) return [];
  let doc: RegistryDocument;
  try {
    doc = JSON.parse(bytes.toString('utf8')) as RegistryDocument;
  } catch (err) {
    throw new Error(`${loc.modelsBucket}/${loc.registryKey} is not valid JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(doc.history)) throw new Error(`${loc.modelsBucket}/${loc.registryKey}: "history" is not a list`);
  return doc.history;
}

export function otherSlot(slots: [string, string], slot: string): string {
  return slot === slots[0] ? slots[1] : slots[0];
}

export async function readDeploymentState(client: Client, loc: RegistryLocation): Promise<DeploymentState> {
  const history = await readHistory(client, loc);
  const active = history.at(-1) ?? null;
  // claimed versions count too: a removed (failed) version's number is never reused
  const versions = (
    await Promise.all(
      loc.slots.flatMap((s) => [listVersions(client, loc.modelsBucket, s), listClaimedVersions(client, loc.modelsBucket, s)]),
    )
  ).flat();
  const maxVersion = Math.max(0, ...versions, ...history.map((d) => d.version));
  return { active, standbySlot: active ? otherSlot(loc.slots, active.slot) : loc.slots[0], maxVersion, history };
}

/**
 * Appends a deployment (idempotent: the same workflow run recording the same
 * slot/version again changes nothing) and flips directory.txt to the new standby.
 */
export async function recordDeployment(client: Client, loc: RegistryLocation, deployment: Deployment): Promise<DeploymentState> {
  const history = await readHistory(client, loc);
  const last = history.at(-1);
  const already =
    last && last.slot === deployment.slot && last.version === deployment.version && last.runId === deployment.runId;
  if (!already) {
    history.push(deployment);
    const doc: RegistryDocument = { history };
    await client.putObject(loc.modelsBucket, loc.registryKey, Buffer.from(JSON.stringify(doc, null, 2)), undefined, {
      'Content-Type': 'application/json',
    });
  }
  const standby = otherSlot(loc.slots, deployment.slot);
  await client.putObject(loc.dataBucket, `${loc.dataPrefix}/directory.txt`, Buffer.from(standby), undefined, {
    'Content-Type': 'text/plain',
  });
  return readDeploymentState(client, loc);
}
