/**
 * The values behind the golden vectors in ./vectors: each wire format of
 * src/messaging with the exact bytes it must encode to. Another
 * implementation (a consumer in another language, a new encoder) checks
 * itself against the files; golden-vectors.test.ts checks this one.
 */
import { buildDeadLetter, type DeadLetter } from '../../src/messaging/dead-letter';
import { buildResult, type RecommendationResult } from '../../src/messaging/result';
import type { SourceRecord } from '../../src/messaging/request-id';
import { encodePurchase, type ModelDescriptor, type Purchase, type RecommendationRequest } from '../../src/messaging/schemas';

const source: SourceRecord = { topic: 'mdata', partition: 0, offset: '1234' };
const model = {
  name: 'recommender1',
  slot: 'recommender1',
  version: 7,
  url: 'http://127.0.0.1:8502/v1/models/recommender1/versions/7:predict',
};
const common = {
  source,
  user: 3,
  model,
  latencyMs: 1.4219,
  requestTimestamp: 1764316800000,
  servedAt: new Date('2025-11-28T08:00:00.012Z'),
};

/** protobuf (src/messaging/proto/recommender.proto), topic `mdata` */
export const REQUESTS: Record<string, RecommendationRequest> = {
  'request-small': { user: 3, products: [17, 42] },
  // int64 extremes that JSON still carries exactly, and a zero (proto3 writes no default for `user`)
  'request-edges': { user: 0, products: [0, 127, 128, 300, 9007199254740991] },
};

/** protobuf, topic `purchases` (key: the customer id, decimal) */
export const PURCHASES: Record<string, Purchase> = {
  'purchase-small': { user: 3, products: [17, 42], timeMs: 1764316800000, id: 'p-1' },
  // user 0 is not written (proto3 default); a repeated product is a repeated purchase; the largest accepted ids
  'purchase-edges': { user: 0, products: [5, 5, 16777215], timeMs: 1, id: 'order:2025-11-28/7#a' },
};

/** protobuf, topic `models` */
export const DESCRIPTORS: Record<string, ModelDescriptor> = {
  descriptor: { name: 'recommender1', description: 'v7: HR@10 0.297', url: model.url },
  'descriptor-empty-name': { name: '', description: '', url: 'http://127.0.0.1:8501/v1/models/recommender:predict' },
  // field 4, the publishing run (`<workflowId>/<runId>`); the two above have none and still decode as they did
  'descriptor-publisher': {
    name: 'recommender1',
    description: 'v7: HR@10 0.297',
    url: model.url,
    publisher: 'recommender-retrain-2025-11-28T08:00:00Z/0199c0de-7b1a-7c3e-9f00-2a6d1e8b4c55',
  },
};

/** UTF-8 JSON, topic `recommendations` */
export const RESULTS: Record<string, RecommendationResult> = {
  'result-scored': buildResult(common, {
    outcome: 'scored',
    ranked: [
      { product: 17, score: 0.91 },
      { product: 42, score: 0.35 },
    ],
  }),
  'result-fallback': buildResult(common, {
    outcome: 'fallback',
    reason: 'the model rejected the request: HTTP 400: indices[0] = 5000 is not in [0, 1000)',
    ranked: [
      { product: 42, score: 1 },
      { product: 5000, score: 0 },
    ],
  }),
  'result-error': buildResult(
    { ...common, model: { name: 'no model yet', slot: null, version: null, url: '' } },
    { outcome: 'error', error: 'no model has been published yet; no popularity ranking is known yet' },
  ),
};

const at = new Date('2025-11-28T08:00:00.100Z');
/** UTF-8 JSON, topic `mdata-dlq` */
export const DEAD_LETTERS: Record<string, DeadLetter> = {
  'dead-letter': buildDeadLetter(
    { topic: 'mdata', partition: 0, offset: '57' },
    { key: Buffer.from('k1'), value: Buffer.from([0x0a, 0x06, 0xa0, 0x8d, 0x06]), timestamp: 1764316800000 },
    { code: 'undecodable', reason: 'not a RecommendationRequest: index out of range: 5 + 6 > 5' },
    at,
  ),
  'dead-letter-tombstone': buildDeadLetter(
    { topic: 'mdata', partition: 2, offset: '9007199254740993' },
    { key: null, value: null, timestamp: 1764316800000 },
    { code: 'empty-message', reason: 'the record has no value' },
    at,
  ),
  // the embedded value cut to its first 4 bytes (maxEmbedBytes 4), with the original length
  'dead-letter-truncated': buildDeadLetter(
    { topic: 'mdata', partition: 0, offset: '58' },
    { key: Buffer.from('1'), value: Buffer.from('0123456789'), timestamp: 1764316800000 },
    { code: 'too-many-products', reason: 'the request lists 5000 distinct products; at most 1000 are ranked per request' },
    at,
    4,
  ),
};

/** UTF-8 JSON, topic `purchases-dlq`: the same envelope, a purchase's codes */
export const PURCHASE_DEAD_LETTERS: Record<string, DeadLetter> = {
  'dead-letter-purchase': buildDeadLetter(
    { topic: 'purchases', partition: 3, offset: '81' },
    {
      key: Buffer.from('3'),
      value: encodePurchase({ user: 3, products: [17, 42], timeMs: 1764403200000, id: 'p-1' }),
      timestamp: 1764316800000,
    },
    {
      code: 'bad-time',
      reason: "time_ms 1764403200000 is 86400000 ms after the record's timestamp 1764316800000 (at most 3600000)",
    },
    at,
  ),
};

/** `<topic>:<partition>:<offset>` (text) */
export const REQUEST_IDS: { source: SourceRecord; id: string }[] = [
  { source, id: 'mdata:0:1234' },
  { source: { topic: 'my.topic-1_x', partition: 12, offset: '9223372036854775807' }, id: 'my.topic-1_x:12:9223372036854775807' },
];
