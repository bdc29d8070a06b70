/**
 * Custom search attributes set by the workflow (registered by the local
 * stack's `temporal server start-dev --search-attribute …`; on a real cluster
 * with `temporal operator search-attribute create`).
 */
import { defineSearchAttributeKey } from '@temporalio/common';

export const MODEL_VERSION = defineSearchAttributeKey('RecommenderModelVersion', 'INT');
export const SLOT = defineSearchAttributeKey('RecommenderSlot', 'KEYWORD');
export const HIT_RATE_10 = defineSearchAttributeKey('RecommenderHitRate10', 'DOUBLE');
export const OUTCOME = defineSearchAttributeKey('RecommenderOutcome', 'KEYWORD');

/** name → type, for registering them on a cluster */
export const SEARCH_ATTRIBUTES = {
  RecommenderModelVersion: 'Int',
  RecommenderSlot: 'Keyword',
  RecommenderHitRate10: 'Double',
  RecommenderOutcome: 'Keyword',
} as const;
