/**
 * How one attributed purchase and one shadow answer are counted
 * (docs/design.md, "Quality out"): the one definition that both the
 * streaming evaluator and the batch function apply, so that they can differ
 * only in which records they join, never in how a join is counted.
 */
import type { ShadowKind } from '../messaging/shadow-result';
import type { VersionFigures } from './figures';

/** A purchase attributed to a request, kept with it so that a shadow answer arriving later can be scored on it. */
export interface AttributedPurchase {
  products: number[];
  modelHit: boolean;
}

/** The request side of a join: the served answer and the shadow answers known so far. */
export interface JoinedRequest {
  top: number[];
  shadows: Partial<Record<ShadowKind, number[]>>;
  bought: AttributedPurchase[];
}

const hitIn = (top: readonly number[], products: readonly number[]): boolean => products.some((p) => top.includes(p));

function countPair(fig: VersionFigures, kind: ShadowKind, shadowTop: number[], purchase: AttributedPurchase): void {
  const s = fig.shadows[kind];
  const shadowHit = hitIn(shadowTop, purchase.products);
  s.paired++;
  if (purchase.modelHit) s.modelHits++;
  if (shadowHit) s.shadowHits++;
  if (purchase.modelHit && !shadowHit) s.modelOnly++;
  if (shadowHit && !purchase.modelHit) s.shadowOnly++;
}

/**
 * Counts a purchase of `products` attributed to `request` in its version's
 * figures, with the repeat/new split (`boughtBefore`: the customer's earlier
 * products) and a pair for each shadow answer the request has.
 */
export function countFollowed(fig: VersionFigures, request: JoinedRequest, products: number[], boughtBefore: ReadonlySet<number>): void {
  const repeat = products.filter((p) => boughtBefore.has(p));
  const fresh = products.filter((p) => !boughtBefore.has(p));
  const purchase: AttributedPurchase = { products, modelHit: hitIn(request.top, products) };
  fig.followed++;
  if (purchase.modelHit) fig.hits++;
  if (repeat.length > 0) {
    fig.repeat.followed++;
    if (hitIn(request.top, repeat)) fig.repeat.hits++;
  }
  if (fresh.length > 0) {
    fig.explore.followed++;
    if (hitIn(request.top, fresh)) fig.explore.hits++;
  }
  for (const [kind, top] of Object.entries(request.shadows) as [ShadowKind, number[]][]) countPair(fig, kind, top, purchase);
  request.bought.push(purchase);
}

/** Links a shadow answer to its request: counted as shadowed, and scored on the purchases already attributed to it. */
export function countShadow(fig: VersionFigures, request: JoinedRequest, kind: ShadowKind, top: number[]): boolean {
  if (request.shadows[kind]) return false; // the first answer of a kind counts
  request.shadows[kind] = top;
  fig.shadows[kind].requests++;
  for (const purchase of request.bought) countPair(fig, kind, top, purchase);
  return true;
}
