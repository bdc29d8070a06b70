/**
 * The model server: Kafka in (`mdata`, `models`), Kafka out
 * (`recommendations`, `mdata-dlq`), REST on the side. Wiring only; the
 * behaviour lives in the modules it assembles.
 */
import type { FastifyInstance } from 'fastify';
import { Partitioners, type Consumer, type Kafka, type Producer } from 'kafkajs';
import type { Registry } from 'prom-client';
import type { Config } from '../../config';
import { createKafka, ensureTopics } from '../../messaging/kafka';
import type { ModelDescriptor } from '../../messaging/schemas';
import { createMinioClient } from '../../storage/minio-client';
import type { BackoffPolicy } from './backoff';
import { CurrentModel, checkDescriptor, type ActiveModel } from './current-model';
import { followDescriptors, type DescriptorFollower } from './descriptor-follower';
import { buildHttpApi, type Health, type ServerState } from './http-api';
import { errorText, jsonLineLog, type Log } from './log';
import { createMetrics } from './metrics';
import { cachedPopularitySource, lineagePopularitySource, type LoadPopularity } from './popularity-source';
import { createPredictClient } from './predict-client';
import { createRequestProcessor, type RequestProcessor } from './request-processor';
import { DEFAULT_MAX_PRODUCTS } from './request-validation';
import { DEFAULT_RETRY, scoreRequest, type RetryPolicy } from './scoring';
import { UsageStats } from './usage-stats';

export interface ModelServerOptions {
  /** Kafka brokers and topics; MinIO and the models bucket for the default popularity source */
  config: Config;
  /** REST port (0: any free port); default 8090 */
  port?: number;
  /** REST bind address; default 127.0.0.1 */
  host?: string;
  /** consumer group of the requests consumer; default `model-server` */
  groupId?: string;
  /** where a new group starts on the requests topic; default true (no request published before the first start is skipped) */
  fromBeginning?: boolean;
  /** requests of one partition scored concurrently; default 16 */
  concurrency?: number;
  /** most requests written to Kafka and committed together; default 200 */
  chunkSize?: number;
  /** most distinct products per request; more goes to the dead-letter topic; default 1000 */
  maxProducts?: number;
  /** deadline of one predict call, ms; default 5000 */
  predictTimeoutMs?: number;
  /** predict retries while the slot is unavailable; default 4 attempts, 100 ms doubling to 2 s */
  retry?: Partial<RetryPolicy>;
  /** pause of a partition after a request exhausted its retries; default 1 s doubling to 15 s */
  cooldown?: Partial<BackoffPolicy>;
  /**
   * Popularity rankings for the fallback. Default: lineage objects in the
   * models bucket (cached); null: no fallback (rejected requests get an error result).
   */
  loadPopularity?: LoadPopularity | null;
  /** create missing topics at start; default true */
  createTopics?: boolean;
  /** Prometheus process metrics (CPU, memory, event loop); default true */
  defaultMetrics?: boolean;
  log?: Log;
}

export interface ModelServer {
  /** base URL of the REST API, e.g. http://127.0.0.1:8090 */
  url: string;
  port: number;
  currentModel(): ActiveModel | undefined;
  state(): ServerState;
  health(): Health;
  metrics: Registry;
  /** resolves once the requests consumer has joined its group (after the first model is known) */
  whenConsuming(): Promise<void>;
  close(): Promise<void>;
}

export async function startModelServer(options: ModelServerOptions): Promise<ModelServer> {
  const cfg = options.config;
  const log = options.log ?? jsonLineLog;
  const retry: RetryPolicy = { ...DEFAULT_RETRY, ...options.retry };
  const cooldown: BackoffPolicy = { initialMs: 1_000, maxMs: 15_000, ...options.cooldown };
  const concurrency = options.concurrency ?? 16;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
  const chunkSize = options.chunkSize ?? 200;
  if (!Number.isInteger(chunkSize) || chunkSize < 1) throw new RangeError(`chunkSize must be a positive integer, got ${chunkSize}`);
  if (retry.attempts < 1) throw new RangeError(`retry.attempts must be at least 1, got ${retry.attempts}`);
  const startedAt = new Date();

  const metrics = createMetrics({ defaultMetrics: options.defaultMetrics });
  const usage = new UsageStats();
  const current = new CurrentModel();
  current.onSwitch((model, previous) => {
    usage.switchedTo(model, previous);
    metrics.modelSwitches.inc();
    metrics.modelVersion.reset();
    metrics.modelVersion.set({ name: model.name, slot: model.slot ?? '' }, model.version ?? -1);
    log('info', 'serving model', { name: model.name, url: model.url, version: model.version, previous: previous?.url ?? null });
  });

  const loadPopularity =
    options.loadPopularity === null
      ? undefined
      : (options.loadPopularity ??
        cachedPopularitySource(lineagePopularitySource(createMinioClient(cfg.minio), cfg.buckets.models), (err, slot, version) =>
          log('warn', 'reading the popularity ranking failed', { slot, version, error: errorText(err) }),
        ));

  const kafka: Kafka = createKafka(cfg.kafka, '-model-server');
  const predictClient = createPredictClient({ timeoutMs: options.predictTimeoutMs, maxSockets: Math.max(concurrency, 8) });
  const shutdown = new AbortController();
  let producer: Producer | undefined;
  let follower: DescriptorFollower | undefined;
  let consumer: Consumer | undefined;
  let processor: RequestProcessor | undefined;
  let app: FastifyInstance | undefined;
  let consuming = false;
  let crashed: string | undefined;
  let closing: Promise<void> | undefined;
  let markConsuming: () => void = () => undefined;
  const consumingStarted = new Promise<void>((resolve) => (markConsuming = resolve));

  function state(): ServerState {
    const m = current.get();
    return {
      startedAt: startedAt.toISOString(),
      current: m ? { name: m.name, description: m.description, url: m.url, slot: m.slot, version: m.version, since: m.since.toISOString() } : null,
      models: usage.snapshot(),
      deadLetters: processor?.deadLetters() ?? 0,
      consuming,
    };
  }

  function health(): Health {
    const problems: string[] = [];
    if (crashed) problems.push(`requests consumer stopped: ${crashed}`);
    if (!current.get()) problems.push('waiting for the first model descriptor');
    // Waiting for the first model is healthy (nothing to restart); a dead consumer is not.
    return { ok: !crashed, problems, model: current.get() !== undefined, consuming };
  }

  async function close(): Promise<void> {
    closing ??= (async () => {
      shutdown.abort(); // pending predict retries give up; their requests stay uncommitted
      processor?.close();
      const steps: [string, (() => Promise<void>) | undefined][] = [
        ['requests consumer', consumer && (() => consumer!.disconnect())],
        ['descriptor follower', follower && (() => follower!.close())],
        ['producer', producer && (() => producer!.disconnect())],
        ['REST API', app && (() => app!.close())],
      ];
      for (const [what, step] of steps) {
        if (!step) continue;
        try {
          await step();
        } catch (err) {
          log('warn', `closing the ${what} failed`, { error: errorText(err) });
        }
      }
      predictClient.close();
    })();
    return closing;
  }

  try {
    if (options.createTopics ?? true) await ensureTopics(kafka, cfg.topics);

    // Not idempotent: kafkajs' idempotence needs unlimited retries (a send could then
    // hang forever); a duplicate from a retried send is harmless, results carry requestId.
    // One request in flight keeps results in offset order across retries.
    producer = kafka.producer({ maxInFlightRequests: 1, allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();

    const apply = (descriptor: ModelDescriptor, where: Record<string, unknown>): void => {
      const checked = checkDescriptor(descriptor);
      if (!checked.ok) {
        metrics.descriptorsRejected.inc();
        log('warn', 'ignoring a model descriptor', { ...where, reason: checked.reason });
        return;
      }
      current.set(checked.model);
    };
    follower = await followDescriptors({
      kafka,
      topic: cfg.topics.models,
      groupPrefix: `${options.groupId ?? 'model-server'}-models`,
      onDescriptor: (p) => apply(p.descriptor, { partition: p.partition, offset: p.offset }),
      onUndecodable: (reason, partition, offset) => {
        metrics.descriptorsRejected.inc();
        log('warn', 'ignoring an undecodable record on the models topic', { partition, offset, reason });
      },
      log,
    });
    // Applied after the follower started: a descriptor it delivers is newer than this one.
    if (follower.initial && !current.get()) {
      apply(follower.initial.descriptor, { partition: follower.initial.partition, offset: follower.initial.offset });
    }

    processor = createRequestProcessor({
      topics: { results: cfg.topics.results, dlq: cfg.topics.dlq },
      producer,
      limits: { maxProducts: options.maxProducts ?? DEFAULT_MAX_PRODUCTS },
      concurrency,
      chunkSize,
      score: (request) =>
        scoreRequest(request, { currentModel: () => current.get(), predict: predictClient.predict, loadPopularity, retry, signal: shutdown.signal }),
      cooldown,
      metrics,
      usage,
      log,
    });

    const c = kafka.consumer({ groupId: options.groupId ?? 'model-server', allowAutoTopicCreation: false, maxWaitTimeInMs: 500 });
    consumer = c;
    c.on(c.events.GROUP_JOIN, () => {
      consuming = true;
      markConsuming();
    });
    c.on(c.events.STOP, () => (consuming = false));
    c.on(c.events.CRASH, (event) => {
      consuming = false;
      if (!event.payload.restart) crashed = errorText(event.payload.error);
      log('error', 'requests consumer crashed', { error: errorText(event.payload.error), restart: event.payload.restart });
    });
    await c.connect();
    await c.subscribe({ topic: cfg.topics.requests, fromBeginning: options.fromBeginning ?? true });

    app = buildHttpApi({ state, health, registry: metrics.registry });
    await app.listen({ port: options.port ?? 8090, host: options.host ?? '127.0.0.1' });

    // Requests wait on Kafka (uncommitted) until there is a model to score them with.
    const p = processor;
    if (!current.get()) log('info', 'no model published yet: requests wait on Kafka until one is', { topic: cfg.topics.models });
    void current.whenAvailable().then(async () => {
      if (closing) return;
      try {
        await c.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch: (payload) => p.eachBatch(payload) });
      } catch (err) {
        crashed = errorText(err);
        log('error', 'the requests consumer did not start', { error: crashed });
      }
    });
  } catch (err) {
    await close();
    throw err;
  }

  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : (options.port ?? 8090);
  const host = options.host ?? '127.0.0.1';
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    currentModel: () => current.get(),
    state,
    health,
    metrics: metrics.registry,
    whenConsuming: () => consumingStarted,
    close,
  };
}
