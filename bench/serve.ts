/**
 * Serving benchmark (issue 12): requests/second and p50/p99 latency of
 *   1. direct predict calls to a slot (one call per request, 1–30 products), and
 *   2. the whole path through Kafka: request on `mdata` → model server →
 *      result on `recommendations`, timed from the producer call to the
 *      result's arrival, flooding, paced, and paced while the model URL
 *      switches to the other slot halfway (blue/green);
 * each Kafka figure beside the ANCHOR measured in the same run: a kafkajs
 * consume → produce relay doing nothing else (bench/kafka-relay.ts), on
 * topics of its own, in a process of its own like the model server. The
 * issue's targets are printed beside each figure: met / NOT met.
 *
 *   npm run bench:serve                  # own slots: exports a seed-sized model (1000 × 300, dim 50),
 *                                        # publishes it under two private slot names, starts two slot
 *                                        # processes on free ports, removes everything afterwards
 *   npm run bench:serve -- --baseline-args "--concurrency 4"   # before/after: a second model server, same rounds
 *   npm run bench:serve -- --only shadows   # issue 23: p99 at 2,000/s with shadows (share 0.1) beside none, same rounds
 *   npm run bench:serve -- --slot-url http://127.0.0.1:8501/v1/models/recommender/versions/1:predict \
 *       --switch-url http://127.0.0.1:8502/v1/models/recommender1/versions/2:predict   # running slots
 *
 * The model server and the relay run as child processes (`src/serving/model-server/main.ts`,
 * as deployed) on throw-away topics; `--cpu-profiles DIR` runs them and the slots with
 * `--cpu-prof`  and leaves the .cpuprofile files there.
 * The slot's model must cover --users × --products (defaults 1000 × 300),
 * or requests come back as fallbacks/errors (counted and reported).
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { performance } from 'node:perf_hooks';
import { Command, Option } from 'commander';
import { integerArg, numberListArg } from '../src/arg-parsers';
import { Partitioners, type Consumer, type Kafka, type Producer } from 'kafkajs';
import { DEFAULT_SHAPE, randomRequest, sendRequests, type RequestShape } from '../src/cli/request-client';
import { percentile } from '../src/cli/results-tracker';
import { loadConfig } from '../src/config';
import { createKafka } from '../src/messaging/kafka';
import { encodeDescriptor } from '../src/messaging/schemas';
import { seedWeights } from './seed-weights';
import { Random } from '../src/ml/random';
import { publishSavedModel } from '../src/store';
import { publishLineage } from '../src/store/lineage';
import { spawnEntry, stopProcess, waitForLog, type Managed } from '../src/process/children';
import { exportSavedModel } from '../src/savedmodel';
import { createPredictClient, parsePredictUrl } from '../src/serving/model-server';
import { waitUntilServing } from '../src/serving/readiness';
import { createMinioClient } from '../src/storage/minio-client';
import { listKeys, removeKeys } from '../src/storage/objects';

interface Flags {
  slotUrl?: string;
  switchUrl?: string;
  requests: number;
  floodRequests: number;
  concurrency: number[];
  rate: number;
  users: number;
  products: number;
  maxProducts: number;
  seed: number;
  rounds: number;
  only?: 'direct' | 'kafka' | 'shadows';
  shadowShare: number;
  shadowServerArgs: string;
  cpuProfiles?: string;
  serverArgs: string;
  baselineArgs?: string;
}

interface Measurement {
  label: string;
  requests: number;
  seconds: number;
  latenciesMs: number[];
  /** outcomes other than a scored ranking (and requests never answered), by kind */
  other: Map<string, number>;
}

/** The issue's targets (issue 12). */
const TARGETS = {
  floodPerSecond: 5_000,
  pacedRate: 2_000,
  pacedP99Ms: 50,
  directPerSecond: 5_000,
  directInFlight: 8,
  switchP99Factor: 2,
  /** issue 23: shadows at a 10 % share add at most 10 % to the active path's p99 */
  shadowP99Factor: 1.1,
};

/** node flags of the child processes (--cpu-prof with --cpu-profiles) */
const NODE_ARGS: string[] = [];

const epochNow = (): number => performance.timeOrigin + performance.now();
const perSecond = (m: Measurement): number => m.requests / m.seconds;
const p = (m: Measurement, q: number): number =>
  percentile(
    [...m.latenciesMs].sort((a, b) => a - b),
    q,
  );
const failed = (m: Measurement): number => [...m.other.values()].reduce((a, b) => a + b, 0);
const fmt = (n: number, digits = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

const integer = integerArg;
const numberList = numberListArg;

function line(m: Measurement, extra = ''): string {
  const other = [...m.other.entries()].map(([k, v]) => `${v} ${k}`).join(', ');
  return (
    `${m.label.padEnd(44)} ${String(m.requests).padStart(6)} req ${fmt(perSecond(m)).padStart(7)} req/s` +
    `  p50 ${fmt(p(m, 50), 2).padStart(8)} ms  p99 ${fmt(p(m, 99), 2).padStart(8)} ms` +
    (other ? `  (not scored: ${other})` : '') +
    (extra ? `  ${extra}` : '')
  );
}

const verdict = (met: boolean): string => (met ? 'met' : 'NOT met');

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

async function benchDirect(url: string, n: number, concurrency: number, shape: RequestShape, seed: number): Promise<Measurement> {
  const rng = new Random(seed);
  const requests = Array.from({ length: n }, () => randomRequest(rng, shape));
  const client = createPredictClient({ maxSockets: concurrency });
  const latencies: number[] = [];
  const other = new Map<string, number>();
  let next = 0;
  try {
    // Warm the connections and the slot before timing.
    await Promise.all(Array.from({ length: concurrency }, () => client.predict(url, requests[0].user, requests[0].products)));
    const started = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < requests.length) {
          const r = requests[next++];
          const t0 = performance.now();
          const out = await client.predict(url, r.user, r.products);
          latencies.push(performance.now() - t0);
          if (out.kind !== 'ok') {
            const k = `${out.kind} (${out.error.slice(0, 60)})`;
            other.set(k, (other.get(k) ?? 0) + 1);
          }
        }
      }),
    );
    return {
      label: `direct predict, ${concurrency} in flight`,
      requests: n,
      seconds: (performance.now() - started) / 1000,
      latenciesMs: latencies,
      other,
    };
  } finally {
    client.close();
  }
}

/**
 * Arrival times on an output topic, by request id: the `request-id` header
 * of a model-server result, or the key the relay gives its copy. Results
 * are parsed only for their outcome (and slot), so the bench process spends
 * little per record.
 */
class Arrivals {
  private consumer: Consumer | undefined;
  readonly seen = new Map<string, { at: number; outcome: string; slot: string }>();

  constructor(
    private readonly kafka: Kafka,
    private readonly topic: string,
  ) {}

  async start(): Promise<void> {
    const consumer = this.kafka.consumer({ groupId: `bench-arrivals-${randomUUID()}`, maxWaitTimeInMs: 20 });
    this.consumer = consumer;
    await consumer.connect();
    await consumer.subscribe({ topic: this.topic, fromBeginning: true });
    const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
    await consumer.run({
      eachBatch: async ({ batch }) => {
        const at = epochNow();
        for (const m of batch.messages) {
          const header = m.headers?.['request-id'];
          const id = header !== undefined ? String(header) : (m.key?.toString() ?? '');
          if (this.seen.has(id)) continue;
          let outcome = 'scored';
          let slot = '';
          if (header !== undefined && m.value) {
            const r = JSON.parse(m.value.toString('utf8')) as { outcome: string; model: { slot: string | null } };
            outcome = r.outcome;
            slot = r.model.slot ?? '';
          }
          this.seen.set(id, { at, outcome, slot });
        }
      },
    });
    await joined;
  }

  async until(ids: readonly string[], timeoutMs: number): Promise<void> {
    const end = Date.now() + timeoutMs;
    let i = 0;
    for (;;) {
      while (i < ids.length && this.seen.has(ids[i])) i++;
      if (i === ids.length) return;
      if (Date.now() > end) return; // the missing ones are reported as unanswered
      await delay(20);
    }
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
  }
}

/** Sends `n` requests to `topic` at `rate` (0 = flood) and times their arrivals. */
async function measureKafka(
  kafka: Kafka,
  producer: Producer,
  arrivals: Arrivals,
  topic: string,
  label: string,
  n: number,
  rate: number,
  shape: RequestShape,
  seed: number,
): Promise<Measurement> {
  const sent: { id: string; at: number }[] = [];
  const first = epochNow();
  await sendRequests({
    kafka,
    topic,
    count: n,
    rate,
    seed,
    shape,
    producer,
    onSent: (records) => {
      for (const r of records) sent.push({ id: r.requestId, at: r.sentAt });
    },
  });
  await arrivals.until(
    sent.map((s) => s.id),
    30_000 + n * 5,
  );
  const other = new Map<string, number>();
  const latencies: number[] = [];
  let last = first;
  for (const s of sent) {
    const a = arrivals.seen.get(s.id);
    if (!a) {
      other.set('unanswered', (other.get('unanswered') ?? 0) + 1);
      continue;
    }
    latencies.push(a.at - s.at);
    last = Math.max(last, a.at);
    if (a.outcome !== 'scored') other.set(a.outcome, (other.get(a.outcome) ?? 0) + 1);
  }
  return { label, requests: n, seconds: (last - first) / 1000, latenciesMs: latencies, other };
}

/** the versions the own slots serve (a, b) */
const VERSIONS = [1, 2] as const;

interface Slots {
  urls: [string, string];
  /** the first slot's model in a third process without server-side batching: the direct calls' anchor */
  unbatchedUrl: string;
  stop(): Promise<void>;
}

/** Two slot processes of this run's own, serving one published seed-sized model each, and the unbatched anchor. */
async function startOwnSlots(id: string, flags: Flags, logDir: string, childEnv: NodeJS.ProcessEnv): Promise<Slots> {
  const cfg = loadConfig();
  const minio = createMinioClient(cfg.minio);
  const names = [`${id}-a`, `${id}-b`] as const;
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'bench-serve-'));
  const procs: Managed[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(procs.map((p) => stopProcess(p, 10_000)));
    for (const prefix of names.flatMap((n) => [`${n}/`, `lineage/${n}/`]))
      await removeKeys(minio, cfg.buckets.models, await listKeys(minio, cfg.buckets.models, prefix)).catch(() => undefined);
    await fs.rm(work, { recursive: true, force: true });
  };
  try {
    const dir = path.join(work, 'v1');
    const manifest = await exportSavedModel(seedWeights(flags.users, flags.products), dir);
    // the same weights as version 1 on a and version 2 on b: the standby serves another version (previous-model shadows);
    // the lineage gives the popularity ranking and table sizes (popularity shadows, --only shadows)
    const popularProducts = Array.from({ length: Math.min(100, flags.products) }, (_, i) => i);
    for (const [i, slot] of names.entries()) {
      const version = VERSIONS[i];
      await publishSavedModel(minio, { bucket: cfg.buckets.models, slot, dir, manifest, version });
      const metadata = { userRows: flags.users, productRows: flags.products, popularProducts };
      await publishLineage(minio, { bucket: cfg.buckets.models, slot, version, metadata, metrics: {} });
    }
    const ports = [await freePort(), await freePort()];
    const grpc = [await freePort(), await freePort()];
    const env = {
      ...childEnv,
      SLOT_NAMES: names.join(','),
      SLOT_HOST: '127.0.0.1',
      SLOT_PORTS: ports.join(','),
      SLOT_GRPC_PORTS: grpc.join(','),
    };
    for (const slot of names)
      procs.push(
        spawnEntry(`bench-${slot}`, 'src/serving/slot/main.ts', ['--slot', slot, '--poll-ms', '500'], logDir, { env, nodeArgs: NODE_ARGS }),
      );
    // the anchor of the direct calls: the first slot's version again, without server-side batching (the slot as it was)
    const anchorPort = await freePort();
    const anchorArgs = ['--slot', names[0], '--port', String(anchorPort), '--no-grpc', '--no-batching', '--poll-ms', '500'];
    procs.push(spawnEntry(`bench-${names[0]}-unbatched`, 'src/serving/slot/main.ts', anchorArgs, logDir, { env, nodeArgs: NODE_ARGS }));
    await Promise.all(procs.map((proc) => waitForLog(proc, /serving http/)));
    const urls = await Promise.all(
      names.map(async (slot, i) => {
        const ready = await waitUntilServing({
          baseUrl: `http://127.0.0.1:${ports[i]}`,
          slot,
          version: VERSIONS[i],
          deadlineMs: Date.now() + 120_000,
        });
        return ready.predictUrl;
      }),
    );
    const anchor = await waitUntilServing({
      baseUrl: `http://127.0.0.1:${anchorPort}`,
      slot: names[0],
      version: 1,
      deadlineMs: Date.now() + 120_000,
    });
    return { urls: [urls[0], urls[1]], unbatchedUrl: anchor.predictUrl, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function createTopics(kafka: Kafka, topics: string[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: topics.map((topic) => ({ topic, numPartitions: 1 })), waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
}

async function deleteTopics(kafka: Kafka, topics: string[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.deleteTopics({ topics });
  } finally {
    await admin.disconnect();
  }
}

interface KafkaFigures {
  relayFlood: Measurement[];
  serverFlood: Measurement[];
  relayPaced: Measurement[];
  serverPaced: Measurement[];
  switched: Measurement[];
  /** with --baseline-args: the same model server with those flags, in the same rounds */
  baselineFlood: Measurement[];
  baselinePaced: Measurement[];
}

interface ServerUnderTest {
  requests: string;
  arrivals: Arrivals;
  port: number;
  proc: Managed;
}

interface Target {
  url: string;
  slot: string;
  base: URL;
}

/** A model-server process on topics of its own, consuming, with the arrivals on its results topic followed. */
async function startServerUnderTest(o: {
  kafka: Kafka;
  id: string;
  name: string;
  topics: Record<'TOPIC_REQUESTS' | 'TOPIC_RESULTS', string> & Record<string, string>;
  targets: Target[];
  args: string;
  logDir: string;
  childEnv: NodeJS.ProcessEnv;
  procs: Managed[];
  /** the popularity ranking from the lineage (fallback and popularity shadows); default off */
  popularity?: boolean;
}): Promise<ServerUnderTest> {
  const { targets, topics, name } = o;
  // the model server accepts descriptor URLs only under its configured slots: these two
  const env: NodeJS.ProcessEnv = {
    ...o.childEnv,
    ...topics,
    SLOT_NAMES: `${targets[0].slot},${targets[1]?.slot ?? `${targets[0].slot}-unused`}`,
    SLOT_HOST: targets[0].base.hostname,
    SLOT_PORTS: `${targets[0].base.port},${targets[1]?.base.port ?? targets[0].base.port}`,
  };
  const port = await freePort();
  const proc = spawnEntry(
    `bench-model-server-${name}-${o.id}`,
    'src/serving/model-server/main.ts',
    [
      '--port',
      String(port),
      '--group',
      `${o.id}-${name}`,
      ...(o.popularity ? [] : ['--no-popularity']),
      ...o.args.split(' ').filter(Boolean),
    ],
    o.logDir,
    { env, nodeArgs: NODE_ARGS },
  );
  o.procs.push(proc);
  const arrivals = new Arrivals(o.kafka, topics.TOPIC_RESULTS);
  await Promise.all([waitForLog(proc, /model server started/), arrivals.start()]);
  for (const end = Date.now() + 60_000; ;) {
    const h = (await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()) as { consuming: boolean };
    if (h.consuming) break;
    if (Date.now() > end) throw new Error(`the model server ${name} did not start consuming within 60 s`);
    await delay(200);
  }
  return { requests: topics.TOPIC_REQUESTS, arrivals, port, proc };
}

/** The topics of one model server of a bench run (its own requests, results, dead letters and shadows; the run's models). */
function benchServerTopics(id: string, name: string, models: string) {
  return {
    TOPIC_REQUESTS: `${id}-${name}-mdata`,
    TOPIC_MODELS: models,
    TOPIC_RESULTS: `${id}-${name}-recommendations`,
    TOPIC_DLQ: `${id}-${name}-mdata-dlq`,
    TOPIC_SHADOWS: `${id}-${name}-recommendations-shadow`,
  };
}

async function benchKafka(
  id: string,
  urls: [string, string | undefined],
  flags: Flags,
  shape: RequestShape,
  logDir: string,
  childEnv: NodeJS.ProcessEnv,
): Promise<KafkaFigures> {
  const models = `${id}-models`;
  const serverTopics = (name: string) => benchServerTopics(id, name, models);
  const names = flags.baselineArgs !== undefined ? ['server', 'baseline'] : ['server'];
  const relayIn = `${id}-relay-in`;
  const relayOut = `${id}-relay-out`;
  const all = [...new Set([...names.flatMap((n) => Object.values(serverTopics(n))), relayIn, relayOut])];
  const kafka = createKafka(loadConfig().kafka, '-bench-serve');
  await createTopics(kafka, all);
  const targets = urls
    .filter((u): u is string => u !== undefined)
    .map((u): Target => ({ url: u, slot: parsePredictUrl(u)!.slot, base: new URL(u) }));
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, maxInFlightRequests: 1 });
  const relayed = new Arrivals(kafka, relayOut);
  const procs: Managed[] = [];
  const servers = new Map<string, ServerUnderTest>();
  const publish = (url: string, description: string) =>
    producer.send({
      topic: models,
      acks: -1,
      messages: [{ value: encodeDescriptor({ name: parsePredictUrl(url)!.slot, description, url }) }],
    });
  const startServer = (name: string, args: string): Promise<ServerUnderTest> =>
    startServerUnderTest({ kafka, id, name, topics: serverTopics(name), targets, args, logDir, childEnv, procs });
  try {
    await producer.connect();
    await publish(targets[0].url, 'benchmark');
    const relay = spawnEntry(
      `bench-relay-${id}`,
      'bench/kafka-relay.ts',
      ['--from', relayIn, '--to', relayOut, '--group', `${id}-relay`],
      logDir,
      {
        env: childEnv,
        nodeArgs: NODE_ARGS,
      },
    );
    procs.push(relay);
    await Promise.all([waitForLog(relay, /relay consuming/), relayed.start()]);
    servers.set('server', await startServer('server', flags.serverArgs));
    if (flags.baselineArgs !== undefined) servers.set('baseline', await startServer('baseline', flags.baselineArgs));

    const run = (system: string, label: string, n: number, rate: number, seed: number) => {
      const s = servers.get(system);
      return measureKafka(kafka, producer, s ? s.arrivals : relayed, s ? s.requests : relayIn, label, n, rate, shape, seed);
    };
    for (const system of ['relay', ...servers.keys()]) await run(system, 'warm-up', 1000, 0, flags.seed + 1000);

    const out: KafkaFigures = {
      relayFlood: [],
      serverFlood: [],
      relayPaced: [],
      serverPaced: [],
      switched: [],
      baselineFlood: [],
      baselinePaced: [],
    };
    const baseline = servers.has('baseline');
    for (let round = 0; round < flags.rounds; round++) {
      const s = flags.seed + round * 10;
      out.relayFlood.push(await run('relay', 'anchor: kafkajs relay, flood', flags.floodRequests, 0, s));
      if (baseline)
        out.baselineFlood.push(await run('baseline', `baseline (${flags.baselineArgs || 'defaults'}), flood`, flags.floodRequests, 0, s));
      out.serverFlood.push(await run('server', 'kafka end to end, flood', flags.floodRequests, 0, s));
      out.relayPaced.push(await run('relay', `anchor: kafkajs relay, ${flags.rate}/s`, flags.requests, flags.rate, s + 1));
      if (baseline)
        out.baselinePaced.push(
          await run('baseline', `baseline (${flags.baselineArgs || 'defaults'}), ${flags.rate}/s`, flags.requests, flags.rate, s + 1),
        );
      out.serverPaced.push(await run('server', `kafka end to end, ${flags.rate}/s`, flags.requests, flags.rate, s + 1));
      const other = round % 2 === 0 ? targets[1] : targets[0];
      if (other) {
        // the same paced load while the model URL switches halfway, as the workflow's publish step does
        const timer = setTimeout(() => void publish(other.url, 'benchmark switch'), (flags.requests / flags.rate) * 500);
        try {
          out.switched.push(await run('server', `kafka ${flags.rate}/s, URL switched halfway`, flags.requests, flags.rate, s + 2));
        } finally {
          clearTimeout(timer);
        }
      }
    }
    return out;
  } finally {
    await Promise.all(procs.map((proc) => stopProcess(proc, 15_000)));
    for (const s of servers.values()) await s.arrivals.stop().catch(() => undefined);
    await relayed.stop().catch(() => undefined);
    await producer.disconnect().catch(() => undefined);
    await deleteTopics(kafka, all).catch((err: unknown) => console.error(`could not delete ${id}-* topics: ${String(err)}`));
    const server = servers.get('server');
    const warnings = (server ? await fs.readFile(server.proc.logFile, 'utf8').catch(() => '') : '')
      .split('\n')
      .filter((l) => l.includes('"level":"warn"') || l.includes('"level":"error"'));
    if (warnings.length) console.error(`model server warnings (${warnings.length}), first: ${warnings[0]}`);
  }
}

interface ShadowFigures {
  plain: Measurement[];
  shadowed: Measurement[];
  /** the shadowed server's counters at the end: shadows written by kind, drops by reason */
  counters: string[];
  /** CPU seconds each server spent over the rounds (process_cpu_seconds_total): less noisy than a p99 on a busy machine */
  cpuSeconds: { plain: number; shadowed: number };
}

/** A model server's process CPU seconds so far (its default metrics). */
async function cpuSeconds(port: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const row = text.split('\n').find((l) => l.startsWith('model_server_process_cpu_seconds_total '));
  return row ? Number(row.split(' ')[1]) : Number.NaN;
}

/** Waits until a model server answers with the target's slot (its descriptor adopted). */
async function serving(port: number, target: Target): Promise<void> {
  for (const end = Date.now() + 60_000; ; await delay(200)) {
    const state = (await (await fetch(`http://127.0.0.1:${port}/state`)).json()) as { current: { slot: string | null } | null };
    if (state.current?.slot === target.slot) return;
    if (Date.now() > end) throw new Error(`the model server on port ${port} did not adopt ${target.url} within 60 s`);
  }
}

/** `model_server_shadow*` series of a model server's /metrics. */
async function shadowCounters(port: number): Promise<string[]> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return text.split('\n').filter((l) => /^model_server_shadow/.test(l));
}

/**
 * The cost of the shadows on the active path: two model servers in the same
 * rounds at the paced rate, one with the shadows (popularity for every
 * answer, the previous model for --shadow-share of them, scored on the
 * standby slot), the anchor with none (share 0, no popularity shadow);
 * both with the lineage's popularity ranking, alternating which goes first.
 */
async function benchShadows(
  id: string,
  urls: [string, string | undefined],
  flags: Flags,
  shape: RequestShape,
  logDir: string,
  childEnv: NodeJS.ProcessEnv,
): Promise<ShadowFigures> {
  if (!urls[1]) throw new Error('--only shadows needs a standby slot: two slots of this run, or --switch-url');
  const models = `${id}-models`;
  const serverTopics = (name: string) => benchServerTopics(id, name, models);
  const all = [...new Set(['plain', 'shadowed'].flatMap((n) => Object.values(serverTopics(n))))];
  const kafka = createKafka(loadConfig().kafka, '-bench-serve');
  await createTopics(kafka, all);
  const targets = urls.map((u): Target => ({ url: u!, slot: parsePredictUrl(u!)!.slot, base: new URL(u!) }));
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, maxInFlightRequests: 1 });
  const procs: Managed[] = [];
  const servers: ServerUnderTest[] = [];
  try {
    await producer.connect();
    const publish = (t: Target) =>
      producer.send({
        topic: models,
        acks: -1,
        messages: [{ value: encodeDescriptor({ name: t.slot, description: 'benchmark', url: t.url }) }],
      });
    // the standby's version first, then the active one: the standby serves the model the active one replaced,
    // so the previous-model shadows are scored (a standby that is not the replaced model does not shadow)
    await publish(targets[1]);
    const start = (name: string, args: string) =>
      startServerUnderTest({ kafka, id, name, topics: serverTopics(name), targets, args, logDir, childEnv, procs, popularity: true });
    const [plain, shadowed] = [
      await start('plain', '--shadow-share 0 --no-popularity-shadow'),
      await start('shadowed', `--shadow-share ${flags.shadowShare} ${flags.shadowServerArgs}`),
    ];
    servers.push(plain, shadowed);
    await Promise.all(servers.map((s) => serving(s.port, targets[1])));
    await publish(targets[0]);
    await Promise.all(servers.map((s) => serving(s.port, targets[0])));
    const run = (s: ServerUnderTest, label: string, n: number, rate: number, seed: number) =>
      measureKafka(kafka, producer, s.arrivals, s.requests, label, n, rate, shape, seed);
    for (const s of servers) await run(s, 'warm-up', 1000, 0, flags.seed + 1000);
    const out: ShadowFigures = { plain: [], shadowed: [], counters: [], cpuSeconds: { plain: 0, shadowed: 0 } };
    const cpuBefore = [await cpuSeconds(plain.port), await cpuSeconds(shadowed.port)];
    for (let round = 0; round < flags.rounds; round++) {
      const seed = flags.seed + round * 10;
      const measure = async (which: 'plain' | 'shadowed') => {
        const label = which === 'plain' ? `no shadows (anchor), ${flags.rate}/s` : `shadows, share ${flags.shadowShare}, ${flags.rate}/s`;
        out[which].push(await run(which === 'plain' ? plain : shadowed, label, flags.requests, flags.rate, seed));
      };
      // alternating which goes first keeps the machine's drift out of the ratio
      for (const which of round % 2 === 0 ? (['plain', 'shadowed'] as const) : (['shadowed', 'plain'] as const)) await measure(which);
    }
    await delay(1000); // the last queued previous-model shadows
    out.counters = await shadowCounters(shadowed.port);
    out.cpuSeconds = { plain: (await cpuSeconds(plain.port)) - cpuBefore[0], shadowed: (await cpuSeconds(shadowed.port)) - cpuBefore[1] };
    return out;
  } finally {
    await Promise.all(procs.map((proc) => stopProcess(proc, 15_000)));
    for (const s of servers) await s.arrivals.stop().catch(() => undefined);
    await producer.disconnect().catch(() => undefined);
    await deleteTopics(kafka, all).catch((err: unknown) => console.error(`could not delete ${id}-* topics: ${String(err)}`));
  }
}

function printShadows(f: ShadowFigures, share: number): void {
  console.log(`\nShadows on the active path (issue 23): the same paced load, shadow share ${share} beside none, in the same rounds:`);
  f.plain.forEach((plain, i) => {
    const shadowed = f.shadowed[i];
    const ratio = p(shadowed, 99) / p(plain, 99);
    console.log(line(plain));
    console.log(
      line(
        shadowed,
        `p99 ${ratio.toFixed(2)}× the anchor's; target ≤ ${TARGETS.shadowP99Factor}×: ${verdict(ratio <= TARGETS.shadowP99Factor && failed(shadowed) === 0)}`,
      ),
    );
  });
  const ratios = f.plain.map((plain, i) => p(f.shadowed[i], 99) / p(plain, 99)).sort((a, b) => a - b);
  const median = ratios[Math.floor(ratios.length / 2)];
  console.log(
    `median of the rounds' p99 ratios ${median.toFixed(2)}× (target ≤ ${TARGETS.shadowP99Factor}×: ${verdict(median <= TARGETS.shadowP99Factor)}); ` +
      `model-server CPU over the rounds: ${f.cpuSeconds.shadowed.toFixed(1)} s with shadows, ${f.cpuSeconds.plain.toFixed(1)} s without ` +
      `(${(f.cpuSeconds.shadowed / f.cpuSeconds.plain).toFixed(2)}×)`,
  );
  // the spread of the rounds' ratios: on a shared machine one round's p99 can be a load spike of others' work
  const q = (x: number): string => ratios[Math.min(ratios.length - 1, Math.floor(x * ratios.length))].toFixed(2);
  console.log(`rounds' p99 ratios: quartiles ${q(0.25)} / ${q(0.5)} / ${q(0.75)}, all: ${ratios.map((r) => r.toFixed(2)).join(' ')}`);
  for (const c of f.counters) console.log(`  ${c}`);
}

function printKafka(k: KafkaFigures): void {
  console.log('\nKafka end to end (request on mdata → model server → result), each beside the anchor of the same round:');
  k.relayFlood.forEach((relay, i) => {
    const server = k.serverFlood[i];
    console.log(line(relay));
    const b = k.baselineFlood[i];
    if (b) console.log(line(b, `ratio ${(perSecond(b) / perSecond(relay)).toFixed(2)} of the anchor`));
    console.log(
      line(
        server,
        `ratio ${(perSecond(server) / perSecond(relay)).toFixed(2)} of the anchor; target ≥ ${fmt(TARGETS.floodPerSecond)} req/s: ${verdict(perSecond(server) >= TARGETS.floodPerSecond && failed(server) === 0)}`,
      ),
    );
    const rp = k.relayPaced[i];
    const sp = k.serverPaced[i];
    console.log(line(rp));
    const bp = k.baselinePaced[i];
    if (bp) console.log(line(bp, `p99 ${(p(bp, 99) / p(rp, 99)).toFixed(1)}× the anchor's`));
    console.log(
      line(
        sp,
        `p99 ${(p(sp, 99) / p(rp, 99)).toFixed(1)}× the anchor's; target p99 ≤ ${TARGETS.pacedP99Ms} ms at ${fmt(TARGETS.pacedRate)}/s: ${verdict(p(sp, 99) <= TARGETS.pacedP99Ms && failed(sp) === 0)}`,
      ),
    );
    const sw = k.switched[i];
    if (sw) {
      const factor = p(sw, 99) / p(sp, 99);
      console.log(
        line(
          sw,
          `p99 ${factor.toFixed(2)}× the steady p99, ${failed(sw)} failed; target ≤ ${TARGETS.switchP99Factor}× and none failed: ${verdict(factor <= TARGETS.switchP99Factor && failed(sw) === 0)}`,
        ),
      );
    }
  });
}

async function main(): Promise<void> {
  const flags = new Command()
    .name('bench-serve')
    .description('Serving throughput and latency: direct predict calls, and end to end through Kafka, beside a kafkajs relay anchor')
    .option('--slot-url <url>', 'predict URL of a running slot (default: start two slots of this run, see the file header)')
    .option('--switch-url <url>', "with --slot-url: the other slot's predict URL, for the switch measurement")
    .addOption(new Option('--requests <n>', 'requests per paced measurement').default(6000).argParser(integer(1)))
    .addOption(new Option('--flood-requests <n>', 'requests per flood measurement').default(20000).argParser(integer(1)))
    .addOption(
      new Option('--concurrency <list>', 'direct predict calls in flight, one measurement each').default([1, 8]).argParser(numberList(1)),
    )
    .addOption(new Option('--rate <n>', 'paced request rate per second').default(TARGETS.pacedRate).argParser(integer(1)))
    .addOption(new Option('--rounds <n>', 'Kafka rounds (anchor, flood, paced, switch each)').default(1).argParser(integer(1)))
    .addOption(new Option('--users <n>', 'users drawn from 0..n-1 (within the model)').default(DEFAULT_SHAPE.users).argParser(integer(1)))
    .addOption(
      new Option('--products <n>', 'products drawn from 0..n-1 (within the model)').default(DEFAULT_SHAPE.products).argParser(integer(1)),
    )
    .addOption(
      new Option('--max-products <n>', 'products per request: 1..n').default(DEFAULT_SHAPE.maxProductsPerRequest).argParser(integer(1)),
    )
    .addOption(new Option('--seed <n>', 'generator seed').default(1).argParser(integer(0)))
    .option('--server-args <args>', 'extra flags for the model server process (src/serving/model-server/main.ts)', '')
    .option(
      '--baseline-args <args>',
      'also measure a second model server with these flags in the same rounds (before/after), e.g. "--concurrency 4"',
    )
    .option('--cpu-profiles <dir>', 'run the model server, relay and slots with --cpu-prof, profiles written here')
    // not --no-direct: tfjs-node's loader (node-pre-gyp) parses process.argv and reads `--no-direct` as its --directory
    .addOption(
      new Option('--only <part>', 'measure only the direct predict calls, the Kafka path, or the shadows beside none').choices([
        'direct',
        'kafka',
        'shadows',
      ]),
    )
    .addOption(new Option('--shadow-share <x>', 'previous-model shadow share of the shadows measurement').default(0.1).argParser(Number))
    .option('--shadow-server-args <args>', 'extra flags for the shadowed model server, e.g. "--no-popularity-shadow"', '')
    .parse()
    .opts<Flags>();
  for (const [name, u] of [
    ['--slot-url', flags.slotUrl],
    ['--switch-url', flags.switchUrl],
  ] as const) {
    if (u !== undefined && !parsePredictUrl(u)) throw new Error(`${name} is not a TF Serving predict URL: ${u}`);
  }
  const shape: RequestShape = { users: flags.users, products: flags.products, maxProductsPerRequest: flags.maxProducts };
  const id = `bench-serve-${randomUUID().slice(0, 8)}`;
  const logDir = path.join(os.tmpdir(), id);
  const childEnv: NodeJS.ProcessEnv = { ...process.env };
  if (flags.cpuProfiles) {
    const dir = path.resolve(flags.cpuProfiles);
    await fs.mkdir(dir, { recursive: true });
    NODE_ARGS.push('--cpu-prof', `--cpu-prof-dir=${dir}`);
  }
  const slots = flags.slotUrl ? undefined : await startOwnSlots(id, flags, logDir, childEnv);
  const urls: [string, string | undefined] = slots ? slots.urls : [flags.slotUrl!, flags.switchUrl];
  try {
    console.log(
      `slots ${urls.filter(Boolean).join(' , ')}${slots ? ' (started by this run)' : ''}; 1–${flags.maxProducts} products a request; ` +
        `load average ${os
          .loadavg()
          .map((l) => l.toFixed(1))
          .join(' ')}; logs in ${logDir}`,
    );
    if (flags.only === undefined || flags.only === 'direct') {
      console.log('\nDirect predict calls to the slot (one call per request), beside the same slot without server-side batching:');
      for (const c of flags.concurrency) {
        // anchor first, then the slot: alternating keeps the machine's drift out of the ratio
        const anchor = slots ? await benchDirect(slots.unbatchedUrl, flags.requests, c, shape, flags.seed) : undefined;
        const m = await benchDirect(urls[0], flags.requests, c, shape, flags.seed);
        if (anchor) console.log(line({ ...anchor, label: `${anchor.label}, no batching (anchor)` }, ''));
        const ratio = anchor
          ? ` = ${(perSecond(m) / perSecond(anchor)).toFixed(2)}× the anchor, p99 ${(p(m, 99) - p(anchor, 99)).toFixed(2)} ms beside it`
          : '';
        const target =
          c === TARGETS.directInFlight
            ? `target ≥ ${fmt(TARGETS.directPerSecond)} req/s: ${verdict(perSecond(m) >= TARGETS.directPerSecond && failed(m) === 0)}`
            : '';
        console.log(line(m, `${ratio}${ratio && target ? '; ' : ''}${target}`));
      }
    }
    if (flags.only === undefined || flags.only === 'kafka') printKafka(await benchKafka(id, urls, flags, shape, logDir, childEnv));
    if (flags.only === undefined || flags.only === 'shadows')
      printShadows(await benchShadows(id, urls, flags, shape, logDir, childEnv), flags.shadowShare);
    console.log(
      `\nload average at the end ${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`,
    );
  } finally {
    await slots?.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
