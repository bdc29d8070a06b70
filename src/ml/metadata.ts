import type { PurchaseHistory } from './dataset/purchase-history';
import type { OutputActivation } from './network/network-weights';
import type { ObjectiveMode, TrainingOptions } from './network/options';
import { popularityRanking } from './popularity';
import type { LinearOptions } from './linear/linear-recommender';

export const METADATA_FORMAT = 'recommender-model-metadata/v1';

/** How many popular products a model carries for the serving fallback. */
export const POPULAR_PRODUCTS_KEPT = 100;

/**
 * What serving needs to know about a model besides its weights: the table
 * sizes (ids at or beyond them are unknown to the model and must get the
 * popularity fallback) and that fallback's product ranking. Plain JSON.
 */
export interface ModelMetadata {
  format: typeof METADATA_FORMAT;
  /** 'linear': the item-to-item default (dot-product tables; embeddingDim = products, hiddenUnits 0) */
  mode: ObjectiveMode | 'linear';
  outputActivation: OutputActivation;
  /** valid customer ids are 0..userRows-1 */
  userRows: number;
  /** valid product ids are 0..productRows-1 */
  productRows: number;
  embeddingDim: number;
  hiddenUnits: number;
  /** most popular first (distinct buyers over the full history), at most POPULAR_PRODUCTS_KEPT */
  popularProducts: number[];
  /** distinct buyers of each product in popularProducts */
  popularBuyers: number[];
  trainedOn: {
    source: string;
    customers: number;
    pairs: number;
    purchases: number;
    transactions: number;
    badLines: number;
    /** pairs held out for evaluation (not learned by this model) */
    heldOutPairs: number;
  };
  options: TrainingOptions | LinearOptions;
}

export function buildModelMetadata(full: PurchaseHistory, options: TrainingOptions, heldOutPairs: number): ModelMetadata {
  return {
    ...commonMetadata(full, heldOutPairs),
    mode: options.mode,
    outputActivation: options.outputActivation,
    embeddingDim: options.embeddingDim,
    hiddenUnits: options.hiddenUnits,
    options,
  };
}

/** Metadata of a linear (dot-product) model: its tables are userRows × dim and productRows × dim. */
export function buildLinearMetadata(full: PurchaseHistory, options: LinearOptions, dim: number, heldOutPairs: number): ModelMetadata {
  return { ...commonMetadata(full, heldOutPairs), mode: 'linear', outputActivation: 'linear', embeddingDim: dim, hiddenUnits: 0, options };
}

function commonMetadata(
  full: PurchaseHistory,
  heldOutPairs: number,
): Omit<ModelMetadata, 'mode' | 'outputActivation' | 'embeddingDim' | 'hiddenUnits' | 'options'> {
  const ranking = popularityRanking(full);
  const top = Array.from(ranking.order.subarray(0, POPULAR_PRODUCTS_KEPT));
  return {
    format: METADATA_FORMAT,
    userRows: full.userRows,
    productRows: full.productRows,
    popularProducts: top,
    popularBuyers: top.map((p) => ranking.buyers[p]),
    trainedOn: {
      source: full.source,
      customers: full.stats.customers,
      pairs: full.stats.pairs,
      purchases: full.stats.purchases,
      transactions: full.stats.transactions,
      badLines: full.badLines.total,
      heldOutPairs,
    },
  };
}
