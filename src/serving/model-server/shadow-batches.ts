/**
 * Batch records of shadow answers (schema 2, src/messaging/shadow-result.ts):
 * one Kafka record carries the answers of several customers instead of one
 * record each (a record's kafkajs encoding and produce cost several times
 * its JSON: bench/shadow-records.ts). Co-partitioning still holds
 * (docs/design.md, "Quality out"): answers are grouped by the partition the
 * default partitioner gives each customer's key, with the topic's partition
 * count as the shadow producer's metadata has it, and each record is written
 * to that partition explicitly; so every entry of a record belongs to a
 * customer of its partition. Entries keep the order the answers came in.
 */
import type { Message } from 'kafkajs';
import { customerKey, customerPartition } from '../../messaging/customer-partition';
import {
  encodeShadowBatch,
  SHADOW_BATCH_SCHEMA_VERSION,
  type ShadowBatch,
  type ShadowBatchEntry,
  type ShadowKind,
  type SlotVersion,
} from '../../messaging/shadow-result';

/** A shadow answer waiting for its batch record: its entry, and what a record holds once for all its entries. */
export interface PendingShadow {
  shadow: ShadowKind;
  servedBy: SlotVersion;
  model: SlotVersion;
  entry: ShadowBatchEntry;
}

/**
 * Most bytes of one record (estimated from the entries: ids and products
 * are short decimals): well under a produce call's DEFAULT_MAX_WRITE_BYTES
 * (512 KiB) and the broker's 1 MB message limit; a round of a flood
 * (5,000 answers) takes a few records.
 */
export const MAX_BATCH_BYTES = 128 * 1024;
const RECORD_BYTES = 256;
const entryBytes = (e: ShadowBatchEntry): number => 64 + e.requestId.length + 12 * e.products.length;

const versionKey = (v: SlotVersion): string => `${v.slot ?? ''}/${v.version ?? ''}`;

interface Group {
  partition: number;
  batch: ShadowBatch;
  bytes: number;
}

/** The batch records of `shadows` on a topic of `partitions` partitions: one per partition, kind and versions (more when large). */
export function shadowBatchMessages(shadows: readonly PendingShadow[], partitions: number, now = new Date()): Message[] {
  const producedAt = now.toISOString();
  const open = new Map<string, Group>();
  const groups: Group[] = [];
  for (const { shadow, servedBy, model, entry } of shadows) {
    const partition = customerPartition(entry.user, partitions);
    const key = `${partition}|${shadow}|${versionKey(servedBy)}|${versionKey(model)}`;
    const bytes = entryBytes(entry);
    let group = open.get(key);
    if (!group || group.bytes + bytes > MAX_BATCH_BYTES) {
      const batch: ShadowBatch = { schema: SHADOW_BATCH_SCHEMA_VERSION, shadow, servedBy, model, producedAt, entries: [] };
      group = { partition, batch, bytes: RECORD_BYTES };
      open.set(key, group);
      groups.push(group);
    }
    group.batch.entries.push(entry);
    group.bytes += bytes;
  }
  return groups.map(shadowBatchMessage);
}

/**
 * A batch record, written to its partition explicitly; keyed by its first
 * customer (the key's partition is that one too, so a copy repartitioned by
 * key keeps every entry with its customer's other records).
 */
function shadowBatchMessage({ partition, batch }: Group): Message {
  return {
    partition,
    key: customerKey(batch.entries[0].user),
    value: encodeShadowBatch(batch),
    headers: { 'content-type': 'application/json', shadow: batch.shadow },
  };
}
