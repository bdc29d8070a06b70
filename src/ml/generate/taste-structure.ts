import { AliasSampler } from '../network/alias-sampler';
import { deriveSeed, permutation, Random } from '../random';
import type { ResolvedGenerateOptions } from './generate-options';

/** Stream ids for deriveSeed, so each kind of randomness has its own stream. */
export const STREAM = { structure: 1, profile: 2, history: 3, day: 4 } as const;

/**
 * The catalogue-wide latent structure: who is popular, which products each
 * taste group prefers. It depends on the seed and catalogue options only (not
 * on the number of customers), so a later "day" sees the same structure.
 */
export interface TasteStructure {
  /** draws a product by global popularity */
  global: AliasSampler;
  /** one sampler per taste group over the products it prefers */
  groups: AliasSampler[];
}

export function buildTasteStructure(opts: ResolvedGenerateOptions): TasteStructure {
  const rng = new Random(deriveSeed(opts.seed, STREAM.structure));
  const P = opts.products;
  const G = opts.tasteGroups;

  // Popularity rank is a random permutation so that popular ids are not simply the small ones.
  const rankOf = permutation(P, rng);
  const popularity = new Float64Array(P);
  for (let p = 0; p < P; p++) popularity[p] = 1 / Math.pow(rankOf[p] + 1, opts.popularityExponent);

  const members: number[][] = Array.from({ length: G }, () => []);
  for (let p = 0; p < P; p++) {
    const primary = rng.int(G);
    members[primary].push(p);
    if (G > 1 && rng.next() < opts.productSecondGroupShare) {
      const second = (primary + 1 + rng.int(G - 1)) % G;
      members[second].push(p);
    }
  }
  // A group with no products cannot express a taste; give it one at random.
  for (const list of members) if (list.length === 0) list.push(rng.int(P));

  const groups = members.map((list) => {
    const ids = Int32Array.from(list);
    const weights = Float64Array.from(list, (p) => Math.pow(popularity[p], opts.groupPopularityExponent));
    return new AliasSampler(weights, ids);
  });
  return { global: new AliasSampler(popularity), groups };
}

/** Per-customer latent traits, recreated on demand from (seed, customer). */
export interface CustomerProfile {
  groups: number[];
  /** activity multiplier, mean 1 across customers */
  activity: number;
  staples: Int32Array;
}

export function customerProfile(opts: ResolvedGenerateOptions, structure: TasteStructure, user: number): CustomerProfile {
  const rng = new Random(deriveSeed(opts.seed, STREAM.profile, user));
  const G = opts.tasteGroups;
  const first = rng.int(G);
  const groups = [first];
  if (G > 1 && rng.next() < opts.userSecondGroupShare) groups.push((first + 1 + rng.int(G - 1)) % G);
  const activity = rng.lognormalWithMean(1, opts.activitySigma);
  const staples = new Int32Array(1 + rng.int(opts.maxStaples));
  const profile: CustomerProfile = { groups, activity, staples };
  // Staples come from the customer's own taste, without the repeat branch.
  for (let i = 0; i < staples.length; i++) staples[i] = freshPick(opts, structure, profile, rng);
  return profile;
}

/** A new (non-repeat) product pick: mostly from the customer's taste groups, sometimes from global popularity. */
function freshPick(opts: ResolvedGenerateOptions, structure: TasteStructure, profile: CustomerProfile, rng: Random): number {
  if (rng.next() < opts.tasteShare) {
    const group = profile.groups.length === 1 ? profile.groups[0] : profile.groups[rng.int(profile.groups.length)];
    return structure.groups[group].sample(rng);
  }
  return structure.global.sample(rng);
}

/** One product pick: a staple re-bought, or a fresh pick. */
export function pickProduct(opts: ResolvedGenerateOptions, structure: TasteStructure, profile: CustomerProfile, rng: Random): number {
  if (rng.next() < opts.repeatShare) return profile.staples[rng.int(profile.staples.length)];
  return freshPick(opts, structure, profile, rng);
}
