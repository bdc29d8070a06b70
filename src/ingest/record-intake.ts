/**
 * One consumed purchase record into a partition's next segment: kept (a
 * history line), dropped as a duplicate of an id kept shortly before, or
 * turned into a dead letter for `purchases-dlq` — by rules that depend on
 * the record and the configuration only (docs/design.md, "Purchases in").
 */
import type { KafkaMessage } from 'kafkajs';
import type { PurchaseLimits } from '../config';
import { buildDeadLetter, deadLetterMessage, type RejectionCode } from '../messaging/dead-letter';
import type { PartitionState } from './partition-state';
import { SegmentBuffer } from './partition-state';
import { validatePurchase } from './purchase-validation';

export type Intake = { outcome: 'kept' | 'duplicate' } | { outcome: 'dead-letter'; code: RejectionCode };

/** Adds the record at `offset` (≥ state.next) to the state's buffer, opening one at state.next if none is open. */
export function takeRecord(
  state: PartitionState,
  topic: string,
  message: KafkaMessage,
  offset: bigint,
  limits: PurchaseLimits,
  now: number,
): Intake {
  const buffer = (state.buffer ??= new SegmentBuffer(state.next, now));
  const timestamp = Number(message.timestamp);
  const verdict = validatePurchase(message.value, timestamp, limits);
  let intake: Intake;
  if (!verdict.ok) {
    const source = { topic, partition: state.partition, offset: offset.toString() };
    const letter = buildDeadLetter(source, { key: message.key, value: message.value, timestamp }, verdict, new Date(now));
    buffer.letters.push(deadLetterMessage(letter, message.key));
    intake = { outcome: 'dead-letter', code: verdict.code };
  } else if (state.window.isDuplicate(verdict.purchase.id, Number(offset))) {
    intake = { outcome: 'duplicate' };
  } else {
    const p = verdict.purchase;
    buffer.add({ user: p.user, products: p.products, timeMs: p.timeMs, offset, id: p.id });
    state.window.keep(p.id, Number(offset));
    intake = { outcome: 'kept' };
  }
  buffer.last = offset;
  state.next = offset + 1n;
  return intake;
}
