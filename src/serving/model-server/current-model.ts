/**
 * The model currently serving: the latest descriptor from the `models`
 * topic, with what its URL says (slot, version). Requests read it at each
 * predict attempt, so a switch takes effect for the very next call (and a
 * request stuck retrying an unreachable slot moves on to the new one).
 */
import type { ModelDescriptor } from '../../messaging/schemas';
import { modelUrl, parsePredictUrl } from '../../messaging/predict-url';
import type { ModelRef } from '../../messaging/result';

export interface ActiveModel extends ModelRef {
  description: string;
  /** when this server switched to it */
  since: Date;
}

export type DescriptorCheck = { ok: true; model: Omit<ActiveModel, 'since'> } | { ok: false; reason: string };

/** A slot the server may send requests to: its TF Serving model name and REST base URL. */
export interface AllowedSlot {
  name: string;
  baseUrl: string;
}

/**
 * A descriptor is usable when its URL is a TF Serving predict URL under the
 * base URL of one of the configured slots, for that slot's name: anyone who
 * can write to the models topic could otherwise send every request's user
 * and products to a host of their choosing and have its scores served.
 * Without `slots` only the shape is checked (unit tests, tools).
 */
export function checkDescriptor(d: ModelDescriptor, slots?: readonly AllowedSlot[]): DescriptorCheck {
  const target = parsePredictUrl(d.url);
  if (!target)
    return { ok: false, reason: `not a TF Serving predict URL (…/v1/models/<name>[/versions/<n>]:predict): ${JSON.stringify(d.url)}` };
  if (slots) {
    const allowed = slots.some((s) => {
      return (
        d.url.startsWith(`${modelUrl(s.baseUrl, s.name)}`) && target.slot === s.name && new URL(d.url).origin === new URL(s.baseUrl).origin
      );
    });
    if (!allowed) {
      const known = slots.map((s) => modelUrl(s.baseUrl, s.name)).join(', ');
      return { ok: false, reason: `the URL is not under a configured slot (${known}): ${JSON.stringify(d.url)}` };
    }
  }
  return {
    ok: true,
    model: { name: d.name || target.slot, description: d.description, url: d.url, slot: target.slot, version: target.version },
  };
}

export class CurrentModel {
  private model: ActiveModel | undefined;
  /** the model the current one replaced (the previous descriptor adopted) */
  private replaced: ActiveModel | undefined;
  private readonly waiters: ((m: ActiveModel) => void)[] = [];
  private readonly listeners: ((m: ActiveModel, previous: ActiveModel | undefined) => void)[] = [];

  get(): ActiveModel | undefined {
    return this.model;
  }

  /** Switches to `next` unless it is the model already serving; returns whether it switched. */
  set(next: Omit<ActiveModel, 'since'>, now = new Date()): boolean {
    const previous = this.model;
    if (previous && previous.url === next.url && previous.name === next.name && previous.description === next.description) return false;
    this.replaced = previous;
    this.model = { ...next, since: now };
    for (const listener of this.listeners) listener(this.model, previous);
    for (const resolve of this.waiters.splice(0)) resolve(this.model);
    return true;
  }

  /** At start, the model the current one replaced, as the models topic tells (no switch happened in this process). */
  noteReplaced(model: Omit<ActiveModel, 'since'>): void {
    this.replaced = { ...model, since: new Date(0) };
  }

  /** The model that `served` replaced, while `served` is the current model (its slot and version); else undefined. */
  replacedBy(served: { slot: string | null; version: number | null }): ActiveModel | undefined {
    const m = this.model;
    return m && m.slot === served.slot && m.version === served.version ? this.replaced : undefined;
  }

  onSwitch(listener: (m: ActiveModel, previous: ActiveModel | undefined) => void): void {
    this.listeners.push(listener);
  }

  /** The model as soon as there is one. */
  whenAvailable(): Promise<ActiveModel> {
    if (this.model) return Promise.resolve(this.model);
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}
