/**
 * Which records of one topic-partition the evaluator takes (docs/design.md,
 * "Quality out"), by rules that depend on that partition's records in
 * offset order only, never on how the three topics interleave:
 *
 *  - late: its event time is more than the grace before the largest event
 *    time of the records before it (the stream's front);
 *  - duplicate: a record taken before it has the same id and an event time
 *    at or after the mark (front − grace). A re-send of a record that is not
 *    late itself always is one; memory is bounded by the grace.
 */
import { MinHeap } from '../store/min-heap';

export type Verdict = 'taken' | 'late' | 'duplicate';

export interface FrontSnapshot {
  front: number | null;
  seen: [string, number][];
}

export class StreamIntake {
  /** the largest event time taken so far (null before the first) */
  front: number | null = null;
  private readonly seen = new Map<string, number>();
  private readonly byTime = new MinHeap<[number, string]>((a, b) => a[0] < b[0]);

  /** `onChange(t)`: the remembered ids at event time t changed (the checkpoint rewrites the state chunk holding t) */
  constructor(
    readonly graceMs: number,
    private readonly onChange: (t: number) => void = () => undefined,
  ) {}

  /** a mark set by the partition's idle advance (join-state.ts): the mark is never below it */
  floor = -Infinity;

  /** front − grace (or the floor, when later): a record before it is late; −∞ before the first record. */
  get mark(): number {
    return Math.max(this.front === null ? -Infinity : this.front - this.graceMs, this.floor);
  }

  take(id: string, eventTime: number): Verdict {
    const mark = this.mark;
    if (eventTime < mark) return 'late';
    for (let top = this.byTime.peek(); top && top[0] < mark; top = this.byTime.peek()) {
      this.byTime.pop();
      if (this.seen.get(top[1]) === top[0]) {
        this.seen.delete(top[1]);
        this.onChange(top[0]);
      }
    }
    if (this.seen.has(id)) return 'duplicate';
    this.seen.set(id, eventTime);
    this.byTime.push([eventTime, id]);
    this.onChange(eventTime);
    if (this.front === null || eventTime > this.front) this.front = eventTime;
    return 'taken';
  }

  get remembered(): number {
    return this.seen.size;
  }

  snapshot(): FrontSnapshot {
    return { front: this.front, seen: [...this.seen] };
  }

  /** The remembered ids with their event times. */
  remembering(): IterableIterator<[string, number]> {
    return this.seen.entries();
  }

  static restore(graceMs: number, s: FrontSnapshot, onChange?: (t: number) => void): StreamIntake {
    const intake = new StreamIntake(graceMs, onChange);
    intake.remember(s.seen);
    intake.front = s.front;
    return intake;
  }

  /** Adds remembered ids (a restore, possibly in several parts). */
  remember(seen: Iterable<[string, number]>): void {
    for (const [id, t] of seen) {
      this.seen.set(id, t);
      this.byTime.push([t, id]);
    }
  }
}
