/**
 * The readiness poll's back-off (the serving side's one back-off, without
 * jitter): delays double from initialDelayMs up to maxDelayMs, and a
 * cancelled activity's signal ends the wait with its reason. Against a
 * small HTTP server speaking TF Serving's model-status and predict REST API.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { backoffCeiling } from '../../src/serving/backoff';
import { waitUntilServing } from '../../src/serving/readiness';

let server: http.Server | undefined;
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

/** Reports LOADING for the first `loadingPolls` status polls, then AVAILABLE; records when each poll came. */
async function slot(loadingPolls: number): Promise<{ baseUrl: string; pollTimes: number[] }> {
  const pollTimes: number[] = [];
  server = http.createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    if (req.method === 'POST') return void res.end(JSON.stringify({ predictions: [[0.25]] }));
    pollTimes.push(performance.now());
    const state = pollTimes.length > loadingPolls ? 'AVAILABLE' : 'LOADING';
    res.end(JSON.stringify({ model_version_status: [{ version: '3', state, status: { error_code: 'OK' } }] }));
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { baseUrl: `http://127.0.0.1:${(server!.address() as AddressInfo).port}`, pollTimes };
}

describe('readiness back-off', () => {
  it('doubles the wait between polls up to the maximum', async () => {
    const { baseUrl, pollTimes } = await slot(5);
    const ready = await waitUntilServing({
      baseUrl,
      slot: 'rec',
      version: 3,
      deadlineMs: Date.now() + 30_000,
      initialDelayMs: 40,
      maxDelayMs: 160,
    });
    expect(ready).toMatchObject({ polls: 6, smokePrediction: 0.25, predictUrl: `${baseUrl}/v1/models/rec/versions/3:predict` });
    const gaps = pollTimes.slice(1).map((t, i) => t - pollTimes[i]);
    const policy = { initialMs: 40, maxMs: 160 };
    expect(gaps.map((_, i) => backoffCeiling(i, policy))).toEqual([40, 80, 160, 160, 160]);
    // a sleep never ends early; 5 ms of slack for timer granularity
    gaps.forEach((gap, i) => expect(gap).toBeGreaterThanOrEqual(backoffCeiling(i, policy) - 5));
  });

  it("ends the wait with the signal's reason when cancelled", async () => {
    const { baseUrl, pollTimes } = await slot(1_000);
    const cancel = new AbortController();
    setTimeout(() => cancel.abort(new Error('activity cancelled by the test')), 150);
    const started = performance.now();
    await expect(
      waitUntilServing({ baseUrl, slot: 'rec', version: 3, deadlineMs: Date.now() + 30_000, initialDelayMs: 5_000, signal: cancel.signal }),
    ).rejects.toThrow('activity cancelled by the test');
    // cut short: not after the 5 s the back-off asked for
    expect(performance.now() - started).toBeLessThan(3_000);
    expect(pollTimes.length).toBe(1);
  });
});
