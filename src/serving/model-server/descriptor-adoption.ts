/**
 * Which descriptors from the `models` topic the model server adopts. A
 * descriptor must name a configured slot (checkDescriptor) and a version
 * that slot can serve: a claimed, complete version that is the slot's
 * newest complete one (a slot serves only that, as TF Serving's latest
 * policy does). Anyone who can write to the topic could otherwise name
 * `…/versions/999999:predict` and have every request retried for ever
 * (issue 24, item 1). A descriptor that cannot be served is set aside and
 * counted; the model serving keeps serving, /healthz says degraded until a
 * later descriptor is adopted. At start the newest servable descriptor on
 * the topic is taken, so a restart does not pick a set-aside one again.
 * Descriptors are decided one at a time, in log order.
 */
import type { Client } from 'minio';
import { byLogPosition, type PublishedDescriptor } from '../../messaging/model-descriptors';
import { latestCompleteVersion } from '../../store';
import { backoffDelay, sleep, type BackoffPolicy } from '../backoff';
import { checkDescriptor, type AllowedSlot, type CurrentModel, type DescriptorCheck } from './current-model';
import { errorText, type Log } from '../../process/json-log';
import type { ServerMetrics } from './metrics';

export type ServableVerdict = { ok: true } | { ok: false; reason: string };

/** Whether `slot` can serve `version` (null: its latest); throws when it cannot tell now (store unreachable). */
export type ServableCheck = (slot: string, version: number | null) => Promise<ServableVerdict>;

/** The model store's answer: the version must be the slot's newest claimed, complete version. */
export function storeServableCheck(client: Client, bucket: string): ServableCheck {
  return async (slot, version) => {
    const newest = await latestCompleteVersion(client, bucket, slot);
    if (newest === undefined) return { ok: false, reason: `slot ${slot} has no claimed, complete version in ${bucket}` };
    if (version === null || version === newest) return { ok: true };
    if (version > newest) return { ok: false, reason: `version ${version} is not a claimed, complete version of slot ${slot}` };
    return { ok: false, reason: `slot ${slot} serves its newest complete version ${newest}, not ${version}` };
  };
}

export interface SetAside {
  partition: number;
  offset: string;
  url: string;
  reason: string;
}

export interface AdopterDeps {
  current: CurrentModel;
  allowedSlots: readonly AllowedSlot[];
  /** null: every descriptor under a configured slot is adopted (no store to ask) */
  servable: ServableCheck | null;
  metrics: ServerMetrics;
  log: Log;
  /** retries of a check that could not tell (store unreachable); default 1 s doubling to 15 s */
  retry?: BackoffPolicy;
}

export class DescriptorAdopter {
  private chain: Promise<void> = Promise.resolve();
  private rejectedCount = 0;
  private lastSetAside: SetAside | undefined;
  private readonly stop = new AbortController();

  constructor(private readonly deps: AdopterDeps) {}

  /** Records on the topic skipped since start: unusable ones and set-aside ones. */
  rejected(): number {
    return this.rejectedCount;
  }

  /** The newest descriptor set aside since the model serving now was adopted, if any (health: degraded). */
  setAside(): SetAside | undefined {
    return this.lastSetAside;
  }

  /** An unusable record (undecodable, bad URL, not a configured slot): skipped and counted. */
  reject(reason: string, where: { partition: number; offset: string }): void {
    this.rejectedCount++;
    this.deps.metrics.descriptorsRejected.inc();
    this.deps.log('warn', 'ignoring an unusable record on the models topic', { ...where, reason });
  }

  /**
   * At start: the newest servable descriptor of `history` (oldest first) becomes current; newer ones are set aside.
   * The model it replaced is the newest older descriptor naming another version (the previous model's shadows).
   */
  start(history: readonly PublishedDescriptor[]): Promise<void> {
    return this.enqueue(async () => {
      for (let i = history.length - 1; i >= 0; i--) {
        if (this.stop.signal.aborted || this.deps.current.get()) return;
        if (await this.decide(history[i], { quiet: true })) return this.noteReplaced(history.slice(0, i));
      }
    });
  }

  private noteReplaced(older: readonly PublishedDescriptor[]): void {
    const current = this.deps.current.get();
    for (let j = older.length - 1; j >= 0 && current; j--) {
      let c: DescriptorCheck;
      try {
        c = checkDescriptor(older[j].descriptor, this.deps.allowedSlots);
      } catch {
        continue; // a hostile record: not a model at all
      }
      if (c.ok && (c.model.slot !== current.slot || c.model.version !== current.version)) return this.deps.current.noteReplaced(c.model);
    }
  }

  /** A descriptor published while the server runs. */
  apply(p: PublishedDescriptor): Promise<void> {
    return this.enqueue(async () => {
      await this.decide(p, { quiet: false });
    });
  }

  close(): void {
    this.stop.abort();
  }

  private enqueue(job: () => Promise<void>): Promise<void> {
    this.chain = this.chain.then(job).catch((err: unknown) => {
      this.deps.log('error', 'deciding on a descriptor failed', { error: errorText(err) });
    });
    return this.chain;
  }

  /** Adopts `p` if servable; returns whether it did. */
  private async decide(p: PublishedDescriptor, how: { quiet: boolean }): Promise<boolean> {
    const where = { partition: p.partition, offset: p.offset };
    let checked: DescriptorCheck;
    try {
      checked = checkDescriptor(p.descriptor, this.deps.allowedSlots);
    } catch (err) {
      checked = { ok: false, reason: `unusable descriptor: ${errorText(err)}` };
    }
    if (!checked.ok) {
      // at start, older records were counted by the run that read them live
      if (!how.quiet) this.reject(checked.reason, where);
      return false;
    }
    const verdict = await this.servable(checked.model.slot, checked.model.version);
    if (!verdict) return false; // shutting down
    if (!verdict.ok) {
      this.setAsideOne({ ...where, url: p.descriptor.url, reason: verdict.reason });
      return false;
    }
    // only a descriptor newer than the one set aside clears it (at start, an older one is adopted after it)
    if (this.lastSetAside && byLogPosition(this.lastSetAside, p) < 0) this.lastSetAside = undefined;
    this.deps.current.set(checked.model);
    return true;
  }

  /** The check's verdict, retried while it cannot tell; undefined once closed. */
  private async servable(slot: string | null, version: number | null): Promise<ServableVerdict | undefined> {
    const check = this.deps.servable;
    if (!check || slot === null) return { ok: true };
    const retry = this.deps.retry ?? { initialMs: 1_000, maxMs: 15_000 };
    for (let attempt = 0; ; attempt++) {
      try {
        return await check(slot, version);
      } catch (err) {
        const wait = backoffDelay(attempt, retry, () => 1);
        this.deps.log('warn', 'cannot tell yet whether a descriptor can be served; asking again', {
          slot,
          version,
          retryInMs: wait,
          error: errorText(err),
        });
        if (!(await sleep(wait, this.stop.signal))) return undefined;
      }
    }
  }

  private setAsideOne(s: SetAside): void {
    this.rejectedCount++;
    this.lastSetAside = s;
    this.deps.metrics.descriptorsSetAside.inc();
    this.deps.log('warn', 'setting aside a descriptor that cannot be served; the current model keeps serving', { ...s });
  }
}
