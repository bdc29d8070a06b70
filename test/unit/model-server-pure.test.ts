import { describe, expect, it } from 'vitest';
import { encodeRequest } from '../../src/messaging/schemas';
import { backoffDelay } from '../../src/serving/backoff';
import { CurrentModel, checkDescriptor } from '../../src/serving/model-server/current-model';
import { buildDeadLetter, deadLetterMessage, decodeDeadLetter } from '../../src/messaging/dead-letter';
import { classifyPredictResponse, predictBody } from '../../src/serving/model-server/predict-client';
import { parsePredictUrl } from '../../src/messaging/predict-url';
import { cachedPopularitySource, popularityFromMetadata } from '../../src/serving/model-server/popularity-source';
import { lineageMetadataKey } from '../../src/store/layout';
import { rankByPopularity, rankByScore } from '../../src/serving/model-server/ranking';
import { validateRequest } from '../../src/serving/model-server/request-validation';
import { buildResult, decodeResult, encodeResult } from '../../src/messaging/result';
import { requestId } from '../../src/messaging/request-id';
import { UsageStats } from '../../src/serving/model-server/usage-stats';

const limits = { maxProducts: 5 };

describe('parsePredictUrl', () => {
  it('reads slot and version from a TF Serving predict URL', () => {
    expect(parsePredictUrl('http://127.0.0.1:8502/v1/models/recommender1/versions/7:predict')).toEqual({
      slot: 'recommender1',
      version: 7,
    });
    expect(parsePredictUrl('https://serving.example/v1/models/recommender/versions/123:predict')).toEqual({
      slot: 'recommender',
      version: 123,
    });
  });
  it('gives a null version when the URL predicts with the latest version', () => {
    expect(parsePredictUrl('http://h:8501/v1/models/recommender:predict')).toEqual({ slot: 'recommender', version: null });
  });
  it('rejects what is not a predict URL', () => {
    for (const url of [
      'not a url',
      'ftp://h/v1/models/r/versions/1:predict',
      'http://h:8501/v1/models/r/versions/1',
      'http://h:8501/v1/models/r/versions/x:predict',
      'http://h:8501/v1/models/r/versions/1:classify',
      'http://h:8501/v2/models/r/versions/1:predict',
    ]) {
      expect(parsePredictUrl(url), url).toBeUndefined();
    }
  });
  it('treats a version beyond 2^53 as unknown rather than rounding it', () => {
    expect(parsePredictUrl('http://h/v1/models/r/versions/9007199254740993:predict')).toEqual({ slot: 'r', version: null });
  });
});

describe('ranking', () => {
  it('orders products by score, highest first', () => {
    expect(rankByScore([10, 11, 12], [0.2, 0.9, 0.5])).toEqual([
      { product: 11, score: 0.9 },
      { product: 12, score: 0.5 },
      { product: 10, score: 0.2 },
    ]);
  });
  it('breaks ties by the lower product id, whatever the input order', () => {
    expect(rankByScore([7, 3, 5], [0.5, 0.5, 0.5]).map((r) => r.product)).toEqual([3, 5, 7]);
  });
  it('refuses scores that do not match the products', () => {
    expect(() => rankByScore([1, 2], [0.1])).toThrow(RangeError);
  });
  it('orders by popularity, unknown products last by id, with a 0..1 score', () => {
    const order = [4, 9, 1, 0, 2]; // 4 most popular
    expect(rankByPopularity([0, 9, 500, 4, 300], order)).toEqual([
      { product: 4, score: 1 },
      { product: 9, score: 0.8 },
      { product: 0, score: 0.4 },
      { product: 300, score: 0 },
      { product: 500, score: 0 },
    ]);
  });
});

describe('validateRequest (dead-letter reasons)', () => {
  it('accepts a valid request and ranks repeated products once', () => {
    expect(validateRequest(encodeRequest({ user: 3, products: [5, 1, 5, 2] }), limits)).toEqual({
      ok: true,
      request: { user: 3, products: [5, 1, 2] },
    });
  });
  it('names each kind of bad record', () => {
    const huge = encodeRequest({ user: 1, products: [2 ** 60] });
    const cases: [string, Buffer | null, string, RegExp][] = [
      ['tombstone', null, 'empty-message', /no value/],
      ['zero bytes', Buffer.alloc(0), 'empty-message', /no value/],
      ['random bytes', Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x22]), 'undecodable', /not a RecommendationRequest/],
      ['truncated', encodeRequest({ user: 3, products: [100000, 200000] }).subarray(0, 4), 'undecodable', /not a RecommendationRequest/],
      ['huge id', huge, 'unsafe-id', /not a safe integer/],
      ['negative user', encodeRequest({ user: -4, products: [1] }), 'negative-id', /user -4/],
      ['negative product', encodeRequest({ user: 4, products: [1, -2] }), 'negative-id', /products\[1\] = -2/],
      ['no products', encodeRequest({ user: 4, products: [] }), 'no-products', /no products/],
      ['too many', encodeRequest({ user: 4, products: [1, 2, 3, 4, 5, 6] }), 'too-many-products', /6 distinct products; at most 5/],
    ];
    for (const [name, bytes, code, reason] of cases) {
      const v = validateRequest(bytes, limits);
      expect(v.ok, name).toBe(false);
      if (!v.ok) {
        expect(v.code, name).toBe(code);
        expect(v.reason, name).toMatch(reason);
      }
    }
  });
  it('counts distinct products against the limit', () => {
    expect(validateRequest(encodeRequest({ user: 4, products: [1, 1, 1, 1, 1, 1, 2] }), limits).ok).toBe(true);
  });
});

describe('dead-letter encoding', () => {
  it('carries reason, source and the original bytes, in the value and the headers', () => {
    const source = { topic: 'mdata', partition: 2, offset: '41' };
    const original = { key: Buffer.from('k'), value: Buffer.from([1, 2, 3, 250]), timestamp: 1700000000000 };
    const letter = buildDeadLetter(source, original, { code: 'undecodable', reason: 'bad wire type' }, new Date('2025-01-01T00:00:00Z'));
    const msg = deadLetterMessage(letter, original.key);
    expect(msg.key).toEqual(Buffer.from('k'));
    expect(msg.headers).toMatchObject({
      'dlq-code': 'undecodable',
      'dlq-reason': 'bad wire type',
      'dlq-source-offset': '41',
      'dlq-source-partition': '2',
    });
    const decoded = decodeDeadLetter(msg.value as Buffer);
    expect(decoded).toEqual(letter);
    expect(Buffer.from(decoded.value!, 'base64')).toEqual(original.value);
    expect(decoded.deadLetteredAt).toBe('2025-01-01T00:00:00.000Z');
  });
  it('keeps a missing value as null', () => {
    const letter = buildDeadLetter(
      { topic: 't', partition: 0, offset: '0' },
      { key: null, value: null, timestamp: 0 },
      { code: 'empty-message', reason: 'x' },
      new Date(),
    );
    expect(decodeDeadLetter(deadLetterMessage(letter, null).value as Buffer)).toMatchObject({ key: null, value: null });
  });
});

describe('result encoding', () => {
  const common = {
    source: { topic: 'mdata', partition: 0, offset: '9007199254740993' },
    user: 3,
    model: { name: 'recommender1', slot: 'recommender1', version: 7, url: 'http://h/v1/models/recommender1/versions/7:predict' },
    latencyMs: 1.23456,
    requestTimestamp: 1700000000000,
    servedAt: new Date('2025-01-01T00:00:00Z'),
  };
  it('round-trips each outcome through JSON', () => {
    const ranked = [
      { product: 17, score: 0.9 },
      { product: 3, score: 0.1 },
    ];
    for (const body of [
      { outcome: 'scored' as const, ranked },
      { outcome: 'fallback' as const, ranked, reason: 'the model rejected the request: HTTP 400: indices' },
      { outcome: 'error' as const, error: 'no popularity ranking' },
    ]) {
      const result = buildResult(common, body);
      expect(decodeResult(encodeResult(result))).toEqual(result);
    }
  });
  it('marks fallbacks and errors, and ids the request by topic, partition and offset', () => {
    const fb = buildResult(common, { outcome: 'fallback', ranked: [], reason: 'r' });
    expect(fb).toMatchObject({ fallback: 'popularity', reason: 'r', requestId: 'mdata:0:9007199254740993', latencyMs: 1.235, schema: 1 });
    const scored = buildResult(common, { outcome: 'scored', ranked: [] });
    expect(scored.fallback).toBeNull();
    const err = buildResult(common, { outcome: 'error', error: 'e' });
    expect(err).toMatchObject({ outcome: 'error', error: 'e', fallback: null });
    expect('ranked' in err).toBe(false);
    expect(JSON.parse(encodeResult(scored).toString())).toMatchObject({ servedAt: '2025-01-01T00:00:00.000Z', model: { version: 7 } });
  });
  it('rejects records that are not results', () => {
    expect(() => decodeResult(Buffer.from('{"schema":1,"outcome":"scored"}'))).toThrow();
    expect(() => decodeResult(Buffer.from('not json'))).toThrow();
  });
  it('builds request ids that split back unambiguously', () => {
    expect(requestId({ topic: 'my.topic-1', partition: 12, offset: '345' }).split(':')).toEqual(['my.topic-1', '12', '345']);
  });
});

describe('classifyPredictResponse', () => {
  it('reads TF Serving predictions, nested or bare', () => {
    expect(classifyPredictResponse(200, '{"predictions":[[0.5],[0.25]]}', 2)).toEqual({ kind: 'ok', scores: [0.5, 0.25] });
    expect(classifyPredictResponse(200, '{"predictions":[0.5,0.25]}', 2)).toEqual({ kind: 'ok', scores: [0.5, 0.25] });
  });
  it('treats 400 and other definitive 4xx as rejections with the slot error', () => {
    expect(classifyPredictResponse(400, '{"error":"indices[0] = 500 is not in [0, 300)"}', 1)).toEqual({
      kind: 'rejected',
      status: 400,
      error: 'HTTP 400: indices[0] = 500 is not in [0, 300)',
    });
    expect(classifyPredictResponse(413, 'too large', 1).kind).toBe('rejected');
  });
  it('treats 5xx, 404 (version not loaded), 408 and 429 as transient', () => {
    for (const status of [500, 502, 503, 504, 404, 408, 429]) {
      expect(classifyPredictResponse(status, '{"error":"x"}', 1).kind, String(status)).toBe('unavailable');
    }
  });
  it('rejects malformed successful answers instead of ranking garbage', () => {
    expect(classifyPredictResponse(200, 'nope', 1).kind).toBe('rejected');
    expect(classifyPredictResponse(200, '{"outputs":[[1]]}', 1).kind).toBe('ok'); // the columnar answer
    expect(classifyPredictResponse(200, '{"scores":[[1]]}', 1).kind).toBe('rejected');
    expect(classifyPredictResponse(200, '{"predictions":[[1]]}', 2)).toMatchObject({
      error: 'the model returned 1 predictions for 2 products',
    });
    expect(classifyPredictResponse(200, '{"predictions":[[null]]}', 1).kind).toBe('rejected');
    expect(classifyPredictResponse(200, '{"predictions":[[1,2]]}', 1).kind).toBe('rejected');
  });
  it('sends one columnar row per product with the same user (golden bytes)', () => {
    expect(predictBody(3, [17, 42])).toBe('{"signature_name":"serving_default","inputs":{"users":[[3],[3]],"products":[[17],[42]]}}');
  });
});

describe('popularity source', () => {
  it('finds the ranking in the accepted metadata shapes', () => {
    expect(lineageMetadataKey('recommender1', 7)).toBe('lineage/recommender1/7/metadata.json');
    expect(popularityFromMetadata({ format: 'recommender-model-metadata/v1', popularProducts: [8, 6], popularBuyers: [40, 30] })).toEqual([
      8, 6,
    ]);
    expect(popularityFromMetadata({ popularity: [3, 1, 2] })).toEqual([3, 1, 2]);
    expect(popularityFromMetadata({ popularity: { order: [5, 4] } })).toEqual([5, 4]);
    expect(popularityFromMetadata({ popularityOrder: [9] })).toEqual([9]);
    for (const doc of [null, 'x', {}, { popularity: [] }, { popularity: [1, -1] }, { popularity: [1.5] }, { popularity: { order: 'x' } }]) {
      expect(popularityFromMetadata(doc), JSON.stringify(doc)).toBeUndefined();
    }
  });
  it('caches hits, remembers misses briefly and turns store failures into misses', async () => {
    let now = 0;
    const calls: string[] = [];
    const errors: string[] = [];
    const store = new Map<string, number[]>([['a/1', [1, 2]]]);
    let failing = false;
    const source = cachedPopularitySource(
      async (slot, version) => {
        calls.push(`${slot}/${version}`);
        if (failing) throw new Error('store down');
        return store.get(`${slot}/${version}`);
      },
      (err) => errors.push((err as Error).message),
      { missTtlMs: 1000, now: () => now },
    );
    expect(await source('a', 1)).toEqual([1, 2]);
    expect(await source('a', 1)).toEqual([1, 2]);
    expect(await source('b', 1)).toBeUndefined();
    expect(await source('b', 1)).toBeUndefined();
    expect(calls).toEqual(['a/1', 'b/1']);
    store.set('b/1', [7]);
    now = 1500;
    expect(await source('b', 1)).toEqual([7]);
    failing = true;
    expect(await source('c', 2)).toBeUndefined();
    expect(errors).toEqual(['store down']);
    expect(calls).toEqual(['a/1', 'b/1', 'b/1', 'c/2']);
  });
  it('shares one lookup between concurrent callers', async () => {
    let calls = 0;
    const source = cachedPopularitySource(
      async () => {
        calls++;
        await new Promise((r) => setTimeout(r, 10));
        return [1];
      },
      () => undefined,
    );
    await Promise.all([source('a', 1), source('a', 1), source('a', 1)]);
    expect(calls).toBe(1);
  });
});

describe('backoffDelay', () => {
  it('doubles up to the maximum, full jitter within [0, d]', () => {
    const policy = { initialMs: 100, maxMs: 1000 };
    expect([0, 1, 2, 3, 4, 10].map((a) => backoffDelay(a, policy, () => 0.999999))).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect([0, 1, 2, 3, 4].map((a) => backoffDelay(a, policy, () => 0))).toEqual([0, 0, 0, 0, 0]);
    expect([0, 1, 2, 3, 4].map((a) => backoffDelay(a, policy, () => 0.5))).toEqual([50, 100, 200, 400, 500]);
  });
});

describe('current model and usage statistics', () => {
  const d = (version: number) => ({
    name: 'rec',
    description: `v${version}`,
    url: `http://h/v1/models/recommender/versions/${version}:predict`,
  });
  it('checks descriptors and switches only on a new URL', async () => {
    expect(checkDescriptor({ name: '', description: '', url: 'http://h/nothing' }).ok).toBe(false);
    const checked = checkDescriptor({ ...d(1), name: '' });
    expect(checked).toMatchObject({ ok: true, model: { name: 'recommender', slot: 'recommender', version: 1 } });
    const current = new CurrentModel();
    const waiting = current.whenAvailable();
    const switches: string[] = [];
    current.onSwitch((m, prev) => switches.push(`${prev?.version ?? '-'}→${m.version}`));
    for (const v of [1, 1, 2]) {
      const c = checkDescriptor(d(v));
      if (c.ok) current.set(c.model);
    }
    expect((await waiting).version).toBe(1);
    expect(switches).toEqual(['-→1', '1→2']);
  });
  it('reports count and mean/min/max latency per model, newest first', () => {
    const current = new CurrentModel();
    const usage = new UsageStats(2);
    current.onSwitch((m, prev) => usage.switchedTo(m, prev));
    const set = (v: number) => {
      const c = checkDescriptor(d(v));
      if (c.ok) current.set(c.model);
      return current.get()!;
    };
    const m1 = set(1);
    usage.record(m1, 'scored', 2);
    usage.record(m1, 'fallback', 4);
    const m2 = set(2);
    usage.record(m2, 'error', 1);
    const [second, first] = usage.snapshot();
    expect(first).toMatchObject({ version: 1, count: 2, scored: 1, fallbacks: 1, meanLatencyMs: 3, minLatencyMs: 2, maxLatencyMs: 4 });
    expect(first.until).not.toBeNull();
    expect(second).toMatchObject({ version: 2, count: 1, errors: 1, until: null });
    set(3);
    expect(usage.snapshot().map((u) => u.version)).toEqual([3, 2]);
    expect(usage.snapshot()[0]).toMatchObject({ count: 0, meanLatencyMs: null });
  });
});
