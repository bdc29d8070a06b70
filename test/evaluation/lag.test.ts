/**
 * `online_evaluator_lag` on the real Kafka and MinIO: the consumer lag of
 * each assigned topic-partition (high watermark − next offset to process),
 * also while the evaluator makes no progress. An evaluator checkpoints a
 * first slice and stops; a second slice is produced while none runs; the
 * next evaluator starts with its MinIO connections held by a proxy (its
 * partitions' checkpoints cannot be read, so it processes nothing): the
 * gauge shows exactly the second slice per topic-partition, then ~0 once
 * MinIO answers and it has caught up. The gauge used to be set from the
 * fetched batches only: a stuck evaluator showed no lag at all.
 */
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config';
import { startOnlineEvaluator, type OnlineEvaluator } from '../../src/evaluation/evaluator';
import { TOPIC_ROLES } from '../../src/evaluation/join-state';
import { silentLog } from '../../src/process/json-log';
import { EvaluatorRig } from './rig';
import { seedTraffic, type Traffic } from './traffic';

/** A TCP proxy whose new connections wait (bytes buffered, nothing forwarded) while it holds. */
async function holdingProxy(host: string, port: number) {
  let holding = false;
  const waiting: (() => void)[] = [];
  const open = new Set<net.Socket>();
  const server = net.createServer((client) => {
    open.add(client);
    client.on('close', () => open.delete(client));
    client.pause();
    const connect = () => {
      if (client.destroyed) return;
      const upstream = net.connect(port, host);
      open.add(upstream);
      upstream.on('close', () => open.delete(upstream));
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
      client.pipe(upstream).pipe(client);
      client.resume();
    };
    if (holding) waiting.push(connect);
    else connect();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    /** holds new connections and drops the live ones (kept-alive sockets would get through) */
    hold() {
      holding = true;
      for (const s of open) s.destroy();
    },
    release() {
      holding = false;
      for (const go of waiting.splice(0)) go();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of open) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** The gauge's samples from the evaluator's own /metrics: `role/partition` → records behind. */
async function lagGauge(e: OnlineEvaluator): Promise<Record<string, number>> {
  const text = await (await fetch(`${e.url}/metrics`)).text();
  const lag: Record<string, number> = {};
  for (const m of text.matchAll(/^online_evaluator_lag\{topic="(\w+)",partition="(\d+)"\} (\d+)$/gm)) lag[`${m[1]}/${m[2]}`] = Number(m[3]);
  return lag;
}

async function until<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`${what} not reached within ${timeoutMs} ms: ${JSON.stringify(v)}`);
    await sleep(200);
  }
}

/** Each role's messages sent as one topic after the other (the lag does not depend on their interleaving). */
async function send(r: EvaluatorRig, traffic: Traffic): Promise<void> {
  for (const role of TOPIC_ROLES) await r.send(role, traffic[role]);
}

let rig: EvaluatorRig | undefined;
let proxy: Awaited<ReturnType<typeof holdingProxy>> | undefined;
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  proxy?.release(); // a failed run must not leave an evaluator waiting for MinIO in its close
  proxy = undefined;
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
  await rig?.cleanUp();
  rig = undefined;
});

describe('online evaluator: the consumer lag gauge', () => {
  it('shows the records produced while it was stopped, per topic-partition, while it cannot progress; ~0 once caught up', async () => {
    const r = (rig = new EvaluatorRig());
    await r.createTopics(2);
    const minio = new URL(r.env.MINIO_ENDPOINT ?? 'http://127.0.0.1:9000');
    const p = (proxy = await holdingProxy(minio.hostname, Number(minio.port || 80)));
    cleanups.push(p.close);
    const config = loadConfig({ ...r.env, MINIO_ENDPOINT: p.endpoint });
    const start = async () => {
      const e = await startOnlineEvaluator({ config, port: 0, defaultMetrics: false, log: silentLog });
      cleanups.push(() => e.close());
      await e.whenConsuming();
      return e;
    };

    const first = await start();
    await send(r, seedTraffic(40_001, 40_601));
    await r.untilCheckpointed(r.config.evaluator.groupId, 90_000);
    const caughtUp = (l: Record<string, number>) => Object.keys(l).length === 6 && Object.values(l).every((n) => n === 0);
    await until('lag 0 on all six topic-partitions', () => lagGauge(first), caughtUp, 30_000);
    await first.close();
    const before = await r.highWatermarks();

    await send(r, seedTraffic(40_601, 41_801)); // while no evaluator runs
    const after = await r.highWatermarks();
    const produced: Record<string, number> = {};
    for (const role of TOPIC_ROLES)
      for (const [part, high] of after[role]) produced[`${role}/${part}`] = Number(high - (before[role].get(part) ?? 0n));
    expect(Object.values(produced).every((n) => n > 0)).toBe(true);

    p.hold();
    const second = await start();
    const behind = await until(
      'the second slice in the gauge',
      () => lagGauge(second),
      (l) => Object.keys(l).length === 6,
      30_000,
    );
    expect(behind).toEqual(produced); // exactly the records past the checkpoint: nothing was processed
    await sleep(1_500); // several refreshes: still behind, not back to 0
    expect(await lagGauge(second)).toEqual(produced);

    p.release();
    await r.untilCheckpointed(r.config.evaluator.groupId, 90_000);
    const zero = await until('lag 0 after catching up', () => lagGauge(second), caughtUp, 30_000);
    expect(Object.keys(zero).sort()).toEqual(Object.keys(produced).sort());
  }, 240_000);
});
