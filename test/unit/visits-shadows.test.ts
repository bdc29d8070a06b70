/**
 * The pure parts of visits and shadows (issue 23): request decoding and
 * validation of `top`/`time_ms`, a visit's catalogue in parts and their
 * merge, the popularity cut, the deterministic sample, the standby's
 * version in a status body. The real-stack behaviour: test/serving/shadows.test.ts.
 */
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { decodeRequest, encodeRequest } from '../../src/messaging/schemas';
import { checkDescriptor, type ActiveModel } from '../../src/serving/model-server/current-model';
import { createMetrics } from '../../src/serving/model-server/metrics';
import { PreviousModelShadows } from '../../src/serving/model-server/previous-model-shadows';
import { rankByPopularity, rankByScore, topByPopularity } from '../../src/serving/model-server/ranking';
import { validateRequest } from '../../src/serving/model-server/request-validation';
import { scoreChunk, type BatchScoringDeps } from '../../src/serving/model-server/scoring';
import { popularityShadowOf, sampledForShadow } from '../../src/serving/model-server/shadows';
import { availableVersion } from '../../src/serving/model-server/standby-slot';
import { catalogue, cutToTop, expandVisits } from '../../src/serving/model-server/visits';

function model(version: number): ActiveModel {
  const c = checkDescriptor({ name: 'r', description: '', url: `http://127.0.0.1:1/v1/models/r/versions/${version}:predict` });
  if (!c.ok) throw new Error(c.reason);
  return { ...c.model, since: new Date() };
}

/** A served request on partition 0 at offset `i`, answered by slot a's `version`, for the previous-model queue. */
function shadowSubject(i: number, version: number, products: number[]) {
  return { requestId: `mdata:0:${i}`, user: 1, eventTime: 1, servedBy: { slot: 'a', version }, products, length: products.length };
}
describe('the visit request', () => {
  it('decodes top and time_ms, and a seed request exactly as before', () => {
    expect(decodeRequest(encodeRequest({ user: 3, products: [], top: 10, timeMs: 1_700_000_000_123 }))).toEqual({
      user: 3,
      products: [],
      top: 10,
      timeMs: 1_700_000_000_123,
    });
    expect(decodeRequest(encodeRequest({ user: 3, products: [4, 5] }))).toEqual({ user: 3, products: [4, 5] });
  });

  it('validates: a visit is ok, top is cut to the maximum, neither products nor top is a dead letter', () => {
    const limits = { maxProducts: 1000, maxTop: 50 };
    expect(validateRequest(encodeRequest({ user: 1, products: [], top: 10 }), limits)).toEqual({
      ok: true,
      request: { user: 1, products: [], top: 10 },
    });
    expect(validateRequest(encodeRequest({ user: 1, products: [], top: 500 }), limits)).toMatchObject({ ok: true, request: { top: 50 } });
    expect(validateRequest(encodeRequest({ user: 1, products: [] }), limits)).toMatchObject({ ok: false, code: 'no-products' });
  });

  it('a visit becomes its catalogue in parts of at most maxRows; unknown tables: an error, not a call', () => {
    const e = expandVisits(
      [
        { user: 1, products: [2] },
        { user: 2, products: [], top: 3 },
      ],
      10,
      true,
      4,
    );
    expect(e.parts.map((p) => p.products)).toEqual([[2], [0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]);
    expect(e.owner).toEqual([0, 1, 1, 1]);
    expect(expandVisits([{ user: 2, products: [], top: 3 }], undefined, true, 4).unscorable.size).toBe(1);
  });

  it('scores a visit over the whole catalogue in several calls and answers its best top; a listed request is cut to its top', async () => {
    const scoreOf = (u: number, p: number) => ((u * 31 + p * 17) % 23) / 23;
    const calls: number[] = [];
    const deps: BatchScoringDeps = {
      currentModel: () => model(4),
      predict: async (_url, user, products) => {
        calls.push(products.length);
        return { kind: 'ok', scores: products.map((p) => scoreOf(user, p)) };
      },
      predictRows: async (_url, users, products) => {
        calls.push(products.length);
        return { kind: 'ok', scores: products.map((p, i) => scoreOf(users[i], p)) };
      },
      loadPopularity: undefined,
      tableSizes: async () => ({ userRows: 100, productRows: 25 }),
      maxRows: 10,
      callsInFlight: 1,
      retry: { attempts: 1, initialMs: 1, maxMs: 1 },
    };
    const [visit, listed] = await scoreChunk(
      [
        { user: 5, products: [], top: 4 },
        { user: 6, products: [1, 2, 3], top: 2 },
      ],
      deps,
    );
    const all = Array.from({ length: 25 }, (_, p) => p);
    expect(visit).toMatchObject({ kind: 'answered', catalogueRows: 25 });
    if (visit.kind !== 'answered' || visit.body.outcome !== 'scored') throw new Error('not scored');
    expect(visit.body.ranked).toEqual(
      rankByScore(
        all,
        all.map((p) => scoreOf(5, p)),
      ).slice(0, 4),
    );
    expect(Math.max(...calls)).toBeLessThanOrEqual(10);
    expect(listed.kind === 'answered' && listed.body.outcome === 'scored' && listed.body.ranked.length).toBe(2);
    expect(cutToTop({ outcome: 'error', error: 'e' }, 2)).toEqual({ outcome: 'error', error: 'e' });
  });
});

describe('shadows', () => {
  it('topByPopularity is the first k of rankByPopularity', () => {
    const order = [9, 3, 7, 1];
    for (const products of [[1, 2, 3], [5, 6], [9, 3, 7, 1, 0, 4], []]) {
      for (const k of [0, 1, 2, 5]) expect(topByPopularity(products, order, k)).toEqual(rankByPopularity(products, order).slice(0, k));
    }
  });

  it("a visit's popularity shadow (ranked once per ranking, catalogue and length) is that ranking's top of its catalogue", () => {
    const order = [5, 3, 9, 1];
    const visit = (catalogueRows: number, length: number) =>
      popularityShadowOf(
        { requestId: 't:0:1', user: 1, eventTime: 0, servedBy: { slot: 's', version: 1 }, products: [], catalogueRows, length },
        order,
      ).entry.products;
    const top = (ranked: { product: number }[]) => ranked.map((r) => r.product);
    const expected = (rows: number, length: number) => top(rankByPopularity(catalogue(rows), order).slice(0, length));
    for (const [rows, length] of [
      [10, 3],
      [10, 3],
      [10, 2],
      [6, 3],
      [10, 10],
    ])
      expect(visit(rows, length), `${rows} rows, top ${length}`).toEqual(expected(rows, length));
    // another ranking of the same sizes is not answered from the first one's
    expect(
      popularityShadowOf(
        { requestId: 't:0:2', user: 1, eventTime: 0, servedBy: { slot: 's', version: 2 }, products: [], catalogueRows: 10, length: 3 },
        [7, 8],
      ).entry.products,
    ).toEqual(top(rankByPopularity(catalogue(10), [7, 8]).slice(0, 3)));
  });

  it('samples by request id: the same ids every time, about the share asked for', () => {
    const ids = Array.from({ length: 20_000 }, (_, i) => `mdata:${i % 3}:${i}`);
    const picked = ids.filter((id) => sampledForShadow(id, 0.1));
    expect(picked.length / ids.length).toBeGreaterThan(0.09);
    expect(picked.length / ids.length).toBeLessThan(0.11);
    expect(ids.filter((id) => sampledForShadow(id, 0.1))).toEqual(picked);
    expect(ids.some((id) => sampledForShadow(id, 0))).toBe(false);
    expect(ids.every((id) => sampledForShadow(id, 1))).toBe(true);
  });

  it('samples about the share in every short run of consecutive offsets (the ids a test or a quiet hour sends)', () => {
    for (const topic of ['mdata', 'recommendations-it-0dd0e6ef', 'requests-demo-1']) {
      for (let partition = 0; partition < 3; partition++) {
        const ids = Array.from({ length: 2_120 }, (_, offset) => `${topic}:${partition}:${offset}`);
        for (let from = 0; from + 120 <= ids.length; from += 40) {
          const picked = ids.slice(from, from + 120).filter((id) => sampledForShadow(id, 0.5)).length;
          expect(picked, `${topic}:${partition} offsets ${from}..${from + 119}`).toBeGreaterThanOrEqual(38); // 120 × 0.5 ± 4 sd
          expect(picked).toBeLessThanOrEqual(82);
        }
      }
    }
  });

  it("reads the standby's newest AVAILABLE version from a TF Serving status body", () => {
    const body = {
      model_version_status: [
        { version: '3', state: 'AVAILABLE' },
        { version: '4', state: 'LOADING' },
        { version: '2', state: 'AVAILABLE' },
      ],
    };
    expect(availableVersion(body)).toBe(3);
    expect(availableVersion({ model_version_status: [{ version: '4', state: 'END' }] })).toBeUndefined();
    expect(availableVersion('not json')).toBeUndefined();
  });
});

describe('the previous-model queue', () => {
  it('never waits: a full queue drops and counts, the rest is scored on the standby and written', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const written: string[] = [];
    const queue = new PreviousModelShadows({
      share: 1,
      queueMax: 5,
      maxRows: 3,
      standby: async () => ({
        ok: true,
        model: { slot: 'b', version: 1, predictUrl: 'http://127.0.0.1:1/v1/models/b/versions/1:predict' },
      }),
      predictRows: async (_url, _users, products) => {
        await held; // a slow standby
        return { kind: 'ok', scores: products.map((p) => p / 10) };
      },
      write: async (messages) => void written.push(...messages.map((m) => String(m.headers?.['request-id']))),
      metrics,
      log: () => undefined,
    });
    const subject = (i: number) => shadowSubject(i, 2, [1, 2, 3]);
    const started = performance.now();
    for (let i = 0; i < 20; i++) queue.offer(subject(i));
    expect(performance.now() - started).toBeLessThan(50); // offer only appends
    await new Promise((r) => setTimeout(r, 20));
    const drops = (await metrics.shadowDrops.get()).values.find((v) => v.labels.reason === 'queue-full')?.value ?? 0;
    // the offers ran before the drain loop took any: five queued, fifteen dropped
    expect(drops).toBe(15);
    release();
    await new Promise((r) => setTimeout(r, 50));
    expect(written).toEqual([0, 1, 2, 3, 4].map((i) => `mdata:0:${i}`));
    expect((await metrics.shadows.get()).values.find((v) => v.labels.kind === 'previous-model')?.value).toBe(5);
    await queue.close();
  });

  it('shadows only while the standby serves the model the serving one replaced (not an older or foreign version)', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const written: string[] = [];
    let standbyVersion = 5;
    const queue = new PreviousModelShadows({
      share: 1,
      queueMax: 10,
      maxRows: 100,
      standby: async () => ({
        ok: true,
        model: { slot: 'b', version: standbyVersion, predictUrl: `http://127.0.0.1:1/v1/models/b/versions/${standbyVersion}:predict` },
      }),
      replacedBy: (served) => (served.slot === 'a' && served.version === 7 ? { slot: 'b', version: 6 } : undefined),
      predictRows: async (_url, _users, products) => ({ kind: 'ok', scores: products.map((p) => p / 10) }),
      write: async (messages) => void written.push(...messages.map((m) => String(m.headers?.['request-id']))),
      metrics,
      log: () => undefined,
    });
    const subject = (i: number) => shadowSubject(i, 7, [1, 2]);
    queue.offer(subject(0)); // the standby serves version 5: an older deployment, not the one version 7 replaced
    await new Promise((r) => setTimeout(r, 30));
    standbyVersion = 6;
    queue.offer(subject(1));
    await new Promise((r) => setTimeout(r, 30));
    expect(written).toEqual(['mdata:0:1']);
    const drops = (await metrics.shadowDrops.get()).values.find((v) => v.labels.reason === 'standby-not-previous')?.value;
    expect(drops).toBe(1);
    await queue.close();
  });
});
