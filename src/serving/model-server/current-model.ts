/**
 * The model currently serving: the latest descriptor from the `models`
 * topic, with what its URL says (slot, version). Requests read it at each
 * predict attempt, so a switch takes effect for the very next call (and a
 * request stuck retrying an unreachable slot moves on to the new one).
 */
import type { ModelDescriptor } from '../../messaging/schemas';
import { parsePredictUrl } from './predict-url';
import type { ModelRef } from './result';

export interface ActiveModel extends ModelRef {
  description: string;
  /** when this server switched to it */
  since: Date;
}

export type DescriptorCheck = { ok: true; model: Omit<ActiveModel, 'since'> } | { ok: false; reason: string };

/** A descriptor is usable when its URL is an http(s) TF Serving predict URL. */
export function checkDescriptor(d: ModelDescriptor): DescriptorCheck {
  const target = parsePredictUrl(d.url);
  if (!target) return { ok: false, reason: `not a TF Serving predict URL (…/v1/models/<name>[/versions/<n>]:predict): ${JSON.stringify(d.url)}` };
  return {
    ok: true,
    model: { name: d.name || target.slot, description: d.description, url: d.url, slot: target.slot, version: target.version },
  };
}

export class CurrentModel {
  private model: ActiveModel | undefined;
  private readonly waiters: ((m: ActiveModel) => void)[] = [];
  private readonly listeners: ((m: ActiveModel, previous: ActiveModel | undefined) => void)[] = [];

  get(): ActiveModel | undefined {
    return this.model;
  }

  /** Switches to `next` unless it is the model already serving; returns whether it switched. */
  set(next: Omit<ActiveModel, 'since'>, now = new Date()): boolean {
    const previous = this.model;
    if (previous && previous.url === next.url && previous.name === next.name && previous.description === next.description) return false;
    this.model = { ...next, since: now };
    for (const listener of this.listeners) listener(this.model, previous);
    for (const resolve of this.waiters.splice(0)) resolve(this.model);
    return true;
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
