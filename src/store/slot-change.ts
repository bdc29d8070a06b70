/**
 * The change marker of a slot (issue 24, item 12): every publish that
 * completes a version and every removal rewrites `<slot>/_claims/_changed.json`
 * after the change is visible, so a slot's poll costs one HEAD whatever the
 * number of versions, and lists the claims only when the marker's ETag moved
 * (plus at start and rarely, for changes made behind the store's back).
 */
import type { Client } from 'minio';
import { isNotFound } from '../storage/objects';
import { slotChangeKey } from './layout';

export interface SlotChange {
  kind: 'slot-change';
  slot: string;
  event: 'completed' | 'removed';
  version: number;
  at: string;
}

/** Records that `version` of `slot` was completed or removed (call after the change is visible). */
export async function markSlotChanged(
  client: Client,
  bucket: string,
  slot: string,
  event: SlotChange['event'],
  version: number,
): Promise<void> {
  const change: SlotChange = { kind: 'slot-change', slot, event, version, at: new Date().toISOString() };
  const body = Buffer.from(JSON.stringify(change));
  await client.putObject(bucket, slotChangeKey(slot), body, body.length, { 'Content-Type': 'application/json' });
}

/** The marker's ETag (changes with every write), or undefined when no deploy wrote one yet. */
export async function slotChangeTag(client: Client, bucket: string, slot: string): Promise<string | undefined> {
  try {
    return (await client.statObject(bucket, slotChangeKey(slot))).etag;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}
