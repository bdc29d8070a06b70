/**
 * Consumed purchase records into a partition's next segment: each is kept
 * (a history line), dropped as a duplicate of an id kept shortly before, or
 * turned into a dead letter for `purchases-dlq` — by rules that depend on
 * the record and the configuration only (docs/design.md, "Purchases in").
 *
 * Per record this is the publisher's hot path: a record in the canonical
 * encoding that passes every check is scanned, deduplicated and written as
 * bytes, without a string or object of its own; every other record goes
 * through protobufjs and validatePurchase, which decide it exactly as before
 * and name the reason of a dead letter.
 */
import type { KafkaMessage } from 'kafkajs';
import type { PurchaseLimits } from '../config';
import { buildDeadLetter, deadLetterMessage, type RejectionCode } from '../messaging/dead-letter';
import { ScannedPurchase } from '../messaging/purchase-scan';
import type { Log } from './log';
import type { PublisherMetrics } from './metrics';
import type { PartitionState } from './partition-state';
import { acceptsScanned, validatePurchase } from './purchase-validation';
import { SegmentBuffer } from './segment-buffer';

type Outcome = 'kept' | 'duplicate' | 'dead-letter';

/** Outcomes counted between two reports (a labelled counter hashes its labels: once a batch, not once a record). */
export class IntakeTally {
  kept = 0;
  duplicate = 0;
  'dead-letter' = 0;
  readonly codes = new Map<RejectionCode, number>();

  report(metrics: PublisherMetrics): void {
    for (const outcome of ['kept', 'duplicate', 'dead-letter'] as const) {
      if (this[outcome]) metrics.records.inc({ outcome }, this[outcome]);
      this[outcome] = 0;
    }
    for (const [code, n] of this.codes) metrics.deadLetters.inc({ code }, n);
    this.codes.clear();
  }
}

/** A segment's limits: the buffer is full when it holds this many purchases or bytes. */
export interface BufferBound {
  purchases: number;
  bytes: number;
}

export class RecordIntake {
  private readonly scanned: ScannedPurchase;

  constructor(
    private readonly topic: string,
    private readonly limits: PurchaseLimits,
    private readonly log: Log,
  ) {
    this.scanned = new ScannedPurchase(limits.maxProducts);
  }

  /**
   * Takes messages[from, …) with offsets at or after state.next into the
   * state's buffer (opened at state.next if none is), until the buffer
   * reaches `bound` or the batch ends; returns the index after the last
   * message looked at.
   */
  take(state: PartitionState, messages: KafkaMessage[], from: number, bound: BufferBound, now: number, tally: IntakeTally): number {
    let next = Number(state.next);
    let taken: string | undefined;
    let i = from;
    while (i < messages.length) {
      const message = messages[i++];
      const offset = Number(message.offset);
      if (offset >= next) {
        if (offset > next) {
          this.log('warn', 'gap in the partition', { partition: state.partition, from: String(next), to: message.offset });
        }
        const buffer = (state.buffer ??= new SegmentBuffer(state.next, now));
        tally[this.takeOne(state, buffer, message, offset, now, tally)]++;
        next = offset + 1;
        taken = message.offset;
      }
      const b = state.buffer;
      if (b !== undefined && (b.purchases >= bound.purchases || b.bytes >= bound.bytes)) break;
    }
    if (taken !== undefined) {
      const last = BigInt(taken);
      (state.buffer as SegmentBuffer).last = last;
      state.next = last + 1n;
    }
    return i;
  }

  private takeOne(
    state: PartitionState,
    buffer: SegmentBuffer,
    message: KafkaMessage,
    offset: number,
    now: number,
    tally: IntakeTally,
  ): Outcome {
    const { value } = message;
    const timestamp = Number(message.timestamp);
    const p = this.scanned;
    if (value && p.scan(value) && acceptsScanned(p, value, timestamp, this.limits)) {
      if (!state.window.admit(value, p.idStart, p.idEnd, offset)) return 'duplicate';
      buffer.addScanned(p, value, message.offset);
      return 'kept';
    }
    const verdict = validatePurchase(value, timestamp, this.limits);
    if (!verdict.ok) {
      const source = { topic: this.topic, partition: state.partition, offset: message.offset };
      const letter = buildDeadLetter(source, { key: message.key, value, timestamp }, verdict, new Date(now));
      buffer.letters.push(deadLetterMessage(letter, message.key));
      tally.codes.set(verdict.code, (tally.codes.get(verdict.code) ?? 0) + 1);
      return 'dead-letter';
    }
    const v = verdict.purchase;
    if (!state.window.admitText(v.id, offset)) return 'duplicate';
    buffer.add({ user: v.user, products: v.products, timeMs: v.timeMs, offset: BigInt(message.offset), id: v.id });
    return 'kept';
  }
}
