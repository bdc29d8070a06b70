/**
 * Serving benchmark: requests/second and p50/p99 latency of
 *   1. direct predict calls to a slot (one call per request, 1–30 products), and
 *   2. the whole path through Kafka: request on `mdata` → model server →
 *      result on `recommendations`, timed from the producer call to the
 *      result's arrival (a model server runs in this process, on topics of
 *      its own, so the local stack's real topics are not touched).
 *
 *   npm run bench:serve -- --slot-url http://127.0.0.1:8501/v1/models/recommender/versions/1:predict
 *
 * The slot's model must cover --users × --products (defaults 1000 × 300),
 * or requests come back as fallbacks/errors (counted and reported).
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Command, InvalidArgumentError, Option } from 'commander';
import { Partitioners, type Kafka } from 'kafkajs';
import { DEFAULT_SHAPE, randomRequest, sendRequests, type RequestShape } from '../src/cli/request-client';
import { loadConfig, type Config } from '../src/config';
import { createKafka, ensureTopics } from '../src/messaging/kafka';
import { encodeDescriptor } from '../src/messaging/schemas';
import { percentile, ResultsTracker } from '../src/cli/results-tracker';
import { Random } from '../src/ml/random';
import { createPredictClient, parsePredictUrl, startModelServer, type Log } from '../src/serving/model-server';

interface Flags {
  slotUrl: string;
  requests: number;
  concurrency: number[];
  rates: number[];
  users: number;
  products: number;
  maxProducts: number;
  serverConcurrency: number;
  seed: number;
  direct: boolean;
  kafka: boolean;
  switchUrl?: string;
}

interface Measurement {
  label: string;
  requests: number;
  seconds: number;
  latenciesMs: number[];
  /** outcomes other than a scored ranking, by kind */
  other: Map<string, number>;
}

const epochNow = (): number => performance.timeOrigin + performance.now();

function integer(min: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < min) throw new InvalidArgumentError(`expected an integer ≥ ${min}`);
    return n;
  };
}

function numberList(min: number) {
  return (value: string): number[] =>
    value.split(',').map((v) => {
      const n = Number(v.trim());
      if (!Number.isFinite(n) || n < min) throw new InvalidArgumentError(`expected comma-separated numbers ≥ ${min}`);
      return n;
    });
}

function report(m: Measurement): void {
  const sorted = [...m.latenciesMs].sort((a, b) => a - b);
  const other = [...m.other.entries()].map(([k, v]) => `${v} ${k}`).join(', ');
  console.log(
    `${m.label.padEnd(30)} ${String(m.requests).padStart(6)} req  ${(m.requests / m.seconds).toFixed(0).padStart(7)} req/s` +
      `  p50 ${percentile(sorted, 50).toFixed(2).padStart(7)} ms  p99 ${percentile(sorted, 99).toFixed(2).padStart(7)} ms` +
      (other ? `  (not scored: ${other})` : ''),
  );
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
          if (out.kind !== 'ok')
            other.set(`${out.kind} (${out.error.slice(0, 60)})`, (other.get(`${out.kind} (${out.error.slice(0, 60)})`) ?? 0) + 1);
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

async function deleteTopics(kafka: Kafka, topics: string[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.deleteTopics({ topics });
  } finally {
    await admin.disconnect();
  }
}

async function benchKafka(url: string, flags: Flags, shape: RequestShape): Promise<Measurement[]> {
  const id = `bench-serve-${randomUUID().slice(0, 8)}`;
  const cfg: Config = loadConfig({
    ...process.env,
    TOPIC_REQUESTS: `${id}-mdata`,
    TOPIC_MODELS: `${id}-models`,
    TOPIC_RESULTS: `${id}-recommendations`,
    TOPIC_DLQ: `${id}-mdata-dlq`,
  });
  const kafka = createKafka(cfg.kafka, '-bench-serve');
  await ensureTopics(kafka, cfg.topics);
  const warnings: string[] = [];
  const log: Log = (level, message, fields) => {
    if (level !== 'info') warnings.push(`${message} ${JSON.stringify(fields ?? {})}`);
  };
  const target = parsePredictUrl(url);
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  const tracker = new ResultsTracker(kafka, cfg.topics.results);
  let server: Awaited<ReturnType<typeof startModelServer>> | undefined;
  try {
    await producer.connect();
    await producer.send({
      topic: cfg.topics.models,
      acks: -1,
      messages: [{ value: encodeDescriptor({ name: target?.slot ?? 'bench', description: 'benchmark', url }) }],
    });
    server = await startModelServer({
      config: cfg,
      port: 0,
      groupId: `${id}-server`,
      concurrency: flags.serverConcurrency,
      loadPopularity: null,
      defaultMetrics: false,
      // the slots named by --slot-url / --switch-url are the ones this run may use
      allowedSlots: [url, flags.switchUrl]
        .filter((u): u is string => u !== undefined)
        .map((u) => ({ name: parsePredictUrl(u)?.slot ?? '', baseUrl: new URL(u).origin })),
      log,
    });

    // The same request/result matching as the demo and the tests: results
    // are matched to requests by request id (topic:partition:offset).
    await Promise.all([tracker.start(), server.whenConsuming()]);

    const run = async (label: string, n: number, rate: number, seed: number): Promise<Measurement> => {
      const ids: string[] = [];
      const first = epochNow();
      await sendRequests({
        kafka,
        topic: cfg.topics.requests,
        count: n,
        rate,
        seed,
        shape,
        producer,
        onSent: (sent) => {
          tracker.expect(sent);
          for (const r of sent) ids.push(r.requestId);
        },
      });
      try {
        await tracker.drain(30_000 + n * 5);
      } catch (err) {
        throw new Error(`${label}: ${(err as Error).message}`);
      }
      const answers = new Map(tracker.all().map((a) => [a.requestId, a]));
      const mine = ids.map((i) => answers.get(i)!);
      const other = new Map<string, number>();
      for (const a of mine) if (a.result.outcome !== 'scored') other.set(a.result.outcome, (other.get(a.result.outcome) ?? 0) + 1);
      const last = Math.max(...mine.map((a) => a.receivedAt));
      return { label, requests: n, seconds: (last - first) / 1000, latenciesMs: mine.map((a) => a.receivedAt - a.sentAt), other };
    };

    await run('warm-up', Math.min(200, flags.requests), 0, flags.seed + 1000);
    const out: Measurement[] = [];
    for (const [i, rate] of flags.rates.entries()) {
      out.push(await run(rate === 0 ? 'kafka end to end, flood' : `kafka end to end, ${rate}/s`, flags.requests, rate, flags.seed + i));
    }
    if (flags.switchUrl) {
      // the same paced load while the model URL switches halfway through,
      // as the workflow's publish step does (blue/green)
      const rate = flags.rates.find((r) => r > 0) ?? 200;
      const switchUrl = flags.switchUrl;
      const timer = setTimeout(
        () => {
          void producer.send({
            topic: cfg.topics.models,
            acks: -1,
            messages: [
              {
                value: encodeDescriptor({
                  name: parsePredictUrl(switchUrl)?.slot ?? 'bench',
                  description: 'benchmark switch',
                  url: switchUrl,
                }),
              },
            ],
          });
        },
        (flags.requests / rate) * 500,
      );
      try {
        out.push(await run(`kafka end to end, ${rate}/s, URL switched halfway`, flags.requests, rate, flags.seed + 99));
      } finally {
        clearTimeout(timer);
      }
    }
    return out;
  } finally {
    await server?.close();
    await tracker.stop().catch(() => undefined);
    await producer.disconnect().catch(() => undefined);
    await deleteTopics(kafka, Object.values(cfg.topics)).catch((err: unknown) =>
      console.error(`could not delete ${id}-* topics: ${String(err)}`),
    );
    if (warnings.length) console.error(`model server warnings (${warnings.length}), first: ${warnings[0]}`);
  }
}

async function main(): Promise<void> {
  const flags = new Command()
    .name('bench-serve')
    .description('Serving throughput and latency: direct predict calls, and end to end through Kafka and the model server')
    .requiredOption('--slot-url <url>', 'predict URL of a slot, e.g. http://127.0.0.1:8501/v1/models/recommender/versions/1:predict')
    .addOption(new Option('--requests <n>', 'requests per measurement').default(2000).argParser(integer(1)))
    .addOption(
      new Option('--concurrency <list>', 'direct predict calls in flight, one measurement each').default([1, 8]).argParser(numberList(1)),
    )
    .addOption(
      new Option('--rates <list>', 'end-to-end request rates per second, one measurement each; 0 = as fast as possible')
        .default([0, 200])
        .argParser(numberList(0)),
    )
    .addOption(new Option('--users <n>', 'users drawn from 0..n-1 (within the model)').default(DEFAULT_SHAPE.users).argParser(integer(1)))
    .addOption(
      new Option('--products <n>', 'products drawn from 0..n-1 (within the model)').default(DEFAULT_SHAPE.products).argParser(integer(1)),
    )
    .addOption(
      new Option('--max-products <n>', 'products per request: 1..n').default(DEFAULT_SHAPE.maxProductsPerRequest).argParser(integer(1)),
    )
    .addOption(
      new Option('--server-concurrency <n>', "model server's requests scored concurrently per partition").default(16).argParser(integer(1)),
    )
    .addOption(new Option('--seed <n>', 'generator seed').default(1).argParser(integer(0)))
    .option('--no-direct', 'skip the direct predict measurements')
    .option('--no-kafka', 'skip the end-to-end measurements')
    .option('--switch-url <url>', 'also measure end to end while the model URL switches to this predict URL halfway (e.g. the other slot)')
    .parse()
    .opts<Flags>();
  if (!parsePredictUrl(flags.slotUrl)) throw new Error(`--slot-url is not a TF Serving predict URL: ${flags.slotUrl}`);
  if (flags.switchUrl && !parsePredictUrl(flags.switchUrl))
    throw new Error(`--switch-url is not a TF Serving predict URL: ${flags.switchUrl}`);
  const shape: RequestShape = { users: flags.users, products: flags.products, maxProductsPerRequest: flags.maxProducts };

  console.log(`slot ${flags.slotUrl}; ${flags.requests} requests per measurement, 1–${flags.maxProducts} products each`);
  if (flags.direct) {
    for (const c of flags.concurrency) report(await benchDirect(flags.slotUrl, flags.requests, c, shape, flags.seed));
  }
  if (flags.kafka) for (const m of await benchKafka(flags.slotUrl, flags, shape)) report(m);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
