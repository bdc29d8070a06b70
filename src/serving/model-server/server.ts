/**
 * The model server: Kafka in (`mdata`, `models`), Kafka out
 * (`recommendations`, `mdata-dlq`), REST on the side. Wiring only; the
 * behaviour lives in the modules it assembles.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import { Partitioners, type Consumer, type ICustomPartitioner, type Kafka, type Producer } from 'kafkajs';
import { ProducerPartitionCounts } from '../../messaging/customer-partition';
import type { Registry } from 'prom-client';
import type { Config } from '../../config';
import { createKafka, customerKeyedTopics, ensureCoPartitioned, ensureTopics } from '../../messaging/kafka';
import type { PublishedDescriptor } from '../../messaging/model-descriptors';
import { createMinioClient } from '../../storage/minio-client';
import type { BackoffPolicy } from '../backoff';
import { CurrentModel, type ActiveModel, type AllowedSlot } from './current-model';
import { DescriptorAdopter, storeServableCheck, type ServableCheck } from './descriptor-adoption';
import { followDescriptors, type DescriptorFollower } from './descriptor-follower';
import { lineageInitialPopularity, type LoadInitialPopularity } from './first-model-fallback';
import { buildHttpApi, type Health, type ServerState } from './http-api';
import { errorText, jsonLineLog, type Log } from '../../process/json-log';
import { createMetrics, type ServerMetrics } from './metrics';
import { PartitionProgress } from '../../process/partition-progress';
import {
  cachedPerVersion,
  cachedPopularitySource,
  lineagePopularitySource,
  lineageTableSizesSource,
  type LoadPopularity,
  type PerVersion,
  type TableSizes,
} from './popularity-source';
import { createPredictClient, type PredictClient } from './predict-client';
import { createRequestProcessor, DEFAULT_MAX_WRITE_BYTES, splitByBytes, type RequestProcessor } from './request-processor';
import { PreviousModelShadows } from './previous-model-shadows';
import { standbyLookup, type StandbyLookup } from './standby-slot';
import { DEFAULT_MAX_PRODUCTS } from './request-validation';
import { DEFAULT_RETRY, scoreChunk, type RetryPolicy } from './scoring';
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
  /** predict calls of one partition in flight at once; default 2 */
  concurrency?: number;
  /** most requests scored and written to Kafka together; default 5000 */
  chunkSize?: number;
  /** most (user, product) rows in one predict call; default config.serving.maxPredictRows (20,000) */
  maxPredictRows?: number;
  /** most bytes in one produce call; default 512 KiB (the broker's limit is 1 MB) */
  maxWriteBytes?: number;
  /** a partition whose writes/commits keep failing this long makes /healthz unhealthy; default 30 s */
  stallAfterMs?: number;
  /**
   * slots a descriptor URL may point at (name + REST base URL); default the
   * configured slots (SLOT_NAMES, SLOT_HOST, SLOT_PORTS)
   */
  allowedSlots?: readonly AllowedSlot[];
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
  /**
   * table sizes of a model version: requests with ids beyond them get the
   * fallback without a predict call. Default: the lineage objects in the
   * models bucket (cached); null: not known (the slot's rejection decides)
   */
  tableSizes?: PerVersion<TableSizes> | null;
  /**
   * requests before the first model: `fallback` answers them at once from the
   * newest known popularity ranking, `hold` leaves them on Kafka until a model
   * is published; default config.serving.beforeFirstModel (SERVING_BEFORE_FIRST_MODEL)
   */
  beforeFirstModel?: 'fallback' | 'hold';
  /**
   * whether a descriptor's slot can serve the version it names, asked before
   * the descriptor is adopted; default: the model store (the slot's newest
   * claimed, complete version); null: no check (a stand-in slot without a store)
   */
  servable?: ServableCheck | null;
  /** the ranking for `fallback` before the first model; default: lineage of the configured slots' newest version */
  loadInitialPopularity?: LoadInitialPopularity;
  /** share of scored answers also scored on the standby slot (previous-model shadows); default config.serving.shadows.share (SHADOW_SHARE) */
  shadowShare?: number;
  /** previous-model shadows waiting at most; default config.serving.shadows.queueMax (SHADOW_QUEUE_MAX) */
  shadowQueueMax?: number;
  /** popularity shadow records of the scored answers (needs a popularity source); default true */
  popularityShadows?: boolean;
  /** finds the standby slot's version; default: the configured slot other than the active one, asked by its model-status REST call */
  standby?: StandbyLookup;
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

interface Settings {
  retry: RetryPolicy;
  cooldown: BackoffPolicy;
  concurrency: number;
  chunkSize: number;
  maxPredictRows: number;
  stallAfterMs: number;
  allowedSlots: readonly AllowedSlot[];
  groupId: string;
  port: number;
  host: string;
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${value}`);
  return value;
}

function settingsOf(options: ModelServerOptions): Settings {
  const cfg = options.config;
  const retry: RetryPolicy = { ...DEFAULT_RETRY, ...options.retry };
  if (retry.attempts < 1) throw new RangeError(`retry.attempts must be at least 1, got ${retry.attempts}`);
  return {
    retry,
    cooldown: { initialMs: 1_000, maxMs: 15_000, ...options.cooldown },
    concurrency: positiveInteger('concurrency', options.concurrency ?? 2),
    chunkSize: positiveInteger('chunkSize', options.chunkSize ?? 5_000),
    maxPredictRows: positiveInteger('maxPredictRows', options.maxPredictRows ?? cfg.serving.maxPredictRows),
    stallAfterMs: options.stallAfterMs ?? 30_000,
    allowedSlots: options.allowedSlots ?? cfg.slots.map((s) => ({ name: s.name, baseUrl: s.baseUrl })),
    groupId: options.groupId ?? 'model-server',
    port: options.port ?? 8090,
    host: options.host ?? '127.0.0.1',
  };
}

/** The current model, with its switches counted, logged and recorded in the usage statistics. */
function trackedCurrentModel(metrics: ServerMetrics, usage: UsageStats, log: Log): CurrentModel {
  const current = new CurrentModel();
  current.onSwitch((model, previous) => {
    usage.switchedTo(model, previous);
    metrics.modelSwitches.inc();
    metrics.modelVersion.reset();
    metrics.modelVersion.set({ name: model.name, slot: model.slot ?? '' }, model.version ?? -1);
    log('info', 'serving model', { name: model.name, url: model.url, version: model.version, previous: previous?.url ?? null });
  });
  return current;
}

function popularityOf(options: ModelServerOptions, log: Log): LoadPopularity | undefined {
  if (options.loadPopularity === null) return undefined;
  const cfg = options.config;
  return (
    options.loadPopularity ??
    cachedPopularitySource(lineagePopularitySource(createMinioClient(cfg.minio), cfg.buckets.models), (err, slot, version) =>
      log('warn', 'reading the popularity ranking failed', { slot, version, error: errorText(err) }),
    )
  );
}

/** Decides which descriptors become the current model: by default only those the model store says their slot can serve. */
function descriptorAdopter(
  options: ModelServerOptions,
  settings: Settings,
  current: CurrentModel,
  metrics: ServerMetrics,
  log: Log,
): DescriptorAdopter {
  const cfg = options.config;
  const servable = options.servable === undefined ? storeServableCheck(createMinioClient(cfg.minio), cfg.buckets.models) : options.servable;
  return new DescriptorAdopter({ current, allowedSlots: settings.allowedSlots, servable, metrics, log });
}

function tableSizesOf(options: ModelServerOptions, log: Log): PerVersion<TableSizes> | undefined {
  if (options.tableSizes !== undefined) return options.tableSizes ?? undefined;
  const cfg = options.config;
  return cachedPerVersion(lineageTableSizesSource(createMinioClient(cfg.minio), cfg.buckets.models), (err, slot, version) =>
    log('warn', 'reading the table sizes failed', { slot, version, error: errorText(err) }),
  );
}

/** The ranking for requests before the first model, or undefined when they are held. */
function initialPopularityOf(
  options: ModelServerOptions,
  allowedSlots: readonly AllowedSlot[],
  loadPopularity: LoadPopularity | undefined,
): LoadInitialPopularity | undefined {
  if ((options.beforeFirstModel ?? options.config.serving.beforeFirstModel) === 'hold') return undefined;
  if (options.loadInitialPopularity) return options.loadInitialPopularity;
  if (!loadPopularity) return async () => undefined;
  const cfg = options.config;
  return lineageInitialPopularity(
    createMinioClient(cfg.minio),
    cfg.buckets.models,
    allowedSlots.map((s) => s.name),
    loadPopularity,
  );
}

/** The REST surface's view, `/state` and `/healthz`, of a server started now, whose partitions stall after `stallAfterMs` without progress. */
function statusViews(
  stallAfterMs: number,
  parts: { current: CurrentModel; usage: UsageStats; progress: PartitionProgress; run: RunState; descriptors: DescriptorAdopter },
) {
  const deps = { ...parts, startedAt: new Date(), stallAfterMs };
  const { current, run } = deps;
  function state(): ServerState {
    const m = current.get();
    return {
      startedAt: deps.startedAt.toISOString(),
      current: m
        ? { name: m.name, description: m.description, url: m.url, slot: m.slot, version: m.version, since: m.since.toISOString() }
        : null,
      models: deps.usage.snapshot(),
      deadLetters: run.processor?.deadLetters() ?? 0,
      consuming: run.consuming,
      descriptorsRejected: deps.descriptors.rejected(),
    };
  }
  function health(): Health {
    const problems: string[] = [];
    if (run.crashed) problems.push(`requests consumer stopped: ${run.crashed}`);
    const stalls = deps.progress.stalled(deps.stallAfterMs);
    for (const s of stalls) {
      problems.push(
        `partition ${s.partition} made no progress for ${Math.round((Date.now() - s.since) / 1000)} s (${s.failures} failed attempts): ${s.reason}`,
      );
    }
    if (!current.get()) problems.push('waiting for the first model descriptor');
    const aside = deps.descriptors.setAside();
    if (aside)
      problems.push(
        `descriptor at ${aside.partition}:${aside.offset} set aside (${aside.url}): ${aside.reason}; the current model keeps serving`,
      );
    // Waiting for the first model is healthy (nothing to restart); a dead consumer or a wedged partition is not.
    return {
      ok: !run.crashed && stalls.length === 0,
      degraded: aside !== undefined,
      problems,
      model: current.get() !== undefined,
      consuming: run.consuming,
    };
  }
  return { state, health };
}

export async function startModelServer(options: ModelServerOptions): Promise<ModelServer> {
  const cfg = options.config;
  const log = options.log ?? jsonLineLog;
  const settings = settingsOf(options);
  const metrics = createMetrics({ defaultMetrics: options.defaultMetrics });
  const usage = new UsageStats();
  const progress = new PartitionProgress();
  const current = trackedCurrentModel(metrics, usage, log);
  const descriptors = descriptorAdopter(options, settings, current, metrics, log);
  const loadPopularity = popularityOf(options, log);
  const beforeFirstModel = initialPopularityOf(options, settings.allowedSlots, loadPopularity);

  const kafka: Kafka = createKafka(cfg.kafka, '-model-server');
  const predictClient: PredictClient = createPredictClient({
    timeoutMs: options.predictTimeoutMs,
    maxSockets: Math.max(settings.concurrency, 8),
  });
  const shutdown = new AbortController();
  const tableSizes = tableSizesOf(options, log);
  const run: RunState = { consuming: false };
  const views = statusViews(settings.stallAfterMs, { current, usage, progress, run, descriptors });
  const parts: Parts = {};
  const { close, closed } = closer(async () => {
    shutdown.abort(); // pending predict retries give up; their requests stay uncommitted
    descriptors.close();
    run.processor?.close();
    await run.processor?.settled(); // commits waiting for their shadows, before the consumer leaves its group
    await closeParts(parts, log);
    predictClient.close();
  });
  let markConsuming: () => void = () => undefined;
  const consumingStarted = new Promise<void>((resolve) => (markConsuming = resolve));

  let app: FastifyInstance;
  try {
    if (options.createTopics ?? true) await ensureServingTopics(kafka, cfg, log);
    const producer = (parts.producer = await resultsProducer(kafka));
    parts.follower = await descriptorFollower(kafka, cfg.topics.models, settings, descriptors, log);
    const shadowPartitions = new ProducerPartitionCounts(kafka);
    const shadowProducer = (parts.shadowProducer = await resultsProducer(kafka, shadowPartitions.createPartitioner));
    const common = { predictClient, tableSizes, metrics, log, current, shadowProducer, shadowPartitions };
    const previous = (parts.previous = previousModelShadows(options, settings, { ...common, producer: shadowProducer }));
    const processor = requestProcessor(options, settings, {
      ...common,
      ...{ producer, previous, loadPopularity, beforeFirstModel, signal: shutdown.signal, usage, progress },
    });
    run.processor = processor;
    // Partitions waiting for a model (or for a slot that stayed unavailable) try the new one at once.
    current.onSwitch(() => processor.wake());
    const consumer = (parts.consumer = await requestsConsumer(
      kafka,
      cfg.topics.requests,
      settings.groupId,
      options.fromBeginning ?? true,
      run,
      markConsuming,
      log,
    ));
    app = parts.app = await listen(views, metrics.registry, settings);
    consumeOnceServable({ consumer, processor, current, holding: !beforeFirstModel, run, closed, log });
    if (!current.get()) announceNoModel(log, beforeFirstModel !== undefined, cfg.topics.models);
  } catch (err) {
    await close();
    throw err;
  }

  return {
    ...listeningAt(app, settings),
    currentModel: () => current.get(),
    state: views.state,
    health: views.health,
    metrics: metrics.registry,
    whenConsuming: () => consumingStarted,
    close,
  };
}

async function listen(
  views: { state: () => ServerState; health: () => Health },
  registry: Registry,
  settings: Settings,
): Promise<FastifyInstance> {
  const app = buildHttpApi({ state: views.state, health: views.health, registry });
  await app.listen({ port: settings.port, host: settings.host });
  return app;
}

/**
 * The topics the model server reads and writes; the results and shadow
 * topics with the partition count of the purchases topic when it exists
 * (co-partitioned by customer id, docs/design.md), a mismatch logged as an error.
 */
async function ensureServingTopics(kafka: Kafka, cfg: Config, log: Log): Promise<void> {
  const { results, shadows, ...others } = cfg.topics;
  await ensureTopics(kafka, others);
  const { mismatch } = await ensureCoPartitioned(kafka, [results, shadows], customerKeyedTopics(cfg));
  if (mismatch) log('error', mismatch, { topics: customerKeyedTopics(cfg) });
}

/** `close` runs `stop` once, however often it is called; `closed` says whether it was called. */
function closer(stop: () => Promise<void>): { close: () => Promise<void>; closed: () => boolean } {
  let closing: Promise<void> | undefined;
  return { close: () => (closing ??= stop()), closed: () => closing !== undefined };
}

/** Where the HTTP API listens (the port the OS chose when 0 was asked). */
function listeningAt(app: FastifyInstance, settings: Settings): { url: string; port: number } {
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : settings.port;
  const host = settings.host;
  return { url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`, port };
}

/** Says what happens to requests while no model is published. */
function announceNoModel(log: Log, answeredByPopularity: boolean, topic: string): void {
  log(
    'info',
    answeredByPopularity
      ? 'no model published yet: requests are answered by popularity until one is'
      : 'no model published yet: requests wait on Kafka until one is',
    { topic },
  );
}

/** The `mdata` batch handler, scoring through the current model's slot (or the popularity fallback). */
function requestProcessor(
  options: ModelServerOptions,
  settings: Settings,
  deps: {
    producer: Producer;
    shadowProducer: Producer;
    shadowPartitions: ProducerPartitionCounts;
    previous: PreviousModelShadows;
    current: CurrentModel;
    predictClient: PredictClient;
    loadPopularity: LoadPopularity | undefined;
    tableSizes: PerVersion<TableSizes> | undefined;
    beforeFirstModel: LoadInitialPopularity | undefined;
    signal: AbortSignal;
    metrics: ServerMetrics;
    usage: UsageStats;
    progress: PartitionProgress;
    log: Log;
  },
): RequestProcessor {
  const { current, predictClient } = deps;
  const topics = options.config.topics;
  return createRequestProcessor({
    topics: { results: topics.results, dlq: topics.dlq },
    producer: deps.producer,
    limits: { maxProducts: options.maxProducts ?? DEFAULT_MAX_PRODUCTS, maxTop: options.config.serving.maxTop },
    chunkSize: settings.chunkSize,
    maxWriteBytes: options.maxWriteBytes,
    score: (requests) =>
      scoreChunk(requests, {
        currentModel: () => current.get(),
        predict: predictClient.predict,
        predictRows: predictClient.predictRows,
        maxRows: settings.maxPredictRows,
        callsInFlight: settings.concurrency,
        loadPopularity: deps.loadPopularity,
        tableSizes: deps.tableSizes,
        retry: settings.retry,
        signal: deps.signal,
        beforeFirstModel: deps.beforeFirstModel,
      }),
    cooldown: settings.cooldown,
    shadows: {
      topic: topics.shadows,
      producer: deps.shadowProducer,
      partitions: (topic) => deps.shadowPartitions.of(topic),
      loadPopularity: options.popularityShadows === false ? undefined : deps.loadPopularity,
      previous: deps.previous,
    },
    metrics: deps.metrics,
    usage: deps.usage,
    progress: deps.progress,
    log: deps.log,
  });
}

type RunState = { processor?: RequestProcessor; consuming: boolean; crashed?: string };

/** What startModelServer has started so far, closed in this order (clients before the REST surface). */
interface Parts {
  consumer?: Consumer;
  follower?: DescriptorFollower;
  previous?: PreviousModelShadows;
  producer?: Producer;
  shadowProducer?: Producer;
  app?: FastifyInstance;
}

async function closeParts(parts: Parts, log: Log): Promise<void> {
  const steps: [string, (() => Promise<void>) | undefined][] = [
    ['requests consumer', parts.consumer && (() => parts.consumer!.disconnect())],
    ['descriptor follower', parts.follower && (() => parts.follower!.close())],
    ['previous-model shadows', parts.previous && (() => parts.previous!.close())],
    ['producer', parts.producer && (() => parts.producer!.disconnect())],
    ['shadow producer', parts.shadowProducer && (() => parts.shadowProducer!.disconnect())],
    ['REST API', parts.app && (() => parts.app!.close())],
  ];
  for (const [what, step] of steps) {
    if (!step) continue;
    try {
      await step();
    } catch (err) {
      log('warn', `closing the ${what} failed`, { error: errorText(err) });
    }
  }
}

/**
 * The results/dead-letter producer. Not idempotent: kafkajs' idempotence
 * needs unlimited retries (a send could then hang forever); a duplicate from
 * a retried send is harmless, results carry requestId. One request in flight
 * keeps results in offset order across retries.
 */
async function resultsProducer(kafka: Kafka, createPartitioner: ICustomPartitioner = Partitioners.DefaultPartitioner): Promise<Producer> {
  const producer = kafka.producer({ maxInFlightRequests: 1, allowAutoTopicCreation: false, createPartitioner });
  await producer.connect();
  return producer;
}

/** The previous-model shadows: sampled answers scored on the standby slot, written by a producer of their own. */
function previousModelShadows(
  options: ModelServerOptions,
  settings: Settings,
  deps: {
    producer: Producer;
    predictClient: PredictClient;
    tableSizes: PerVersion<TableSizes> | undefined;
    metrics: ServerMetrics;
    log: Log;
    current: CurrentModel;
  },
): PreviousModelShadows {
  const cfg = options.config;
  const share = options.shadowShare ?? cfg.serving.shadows.share;
  if (!(share >= 0 && share <= 1)) throw new RangeError(`shadowShare must be within 0..1, got ${share}`);
  return new PreviousModelShadows({
    share,
    queueMax: positiveInteger('shadowQueueMax', options.shadowQueueMax ?? cfg.serving.shadows.queueMax),
    maxRows: settings.maxPredictRows,
    standby: options.standby ?? standbyLookup(settings.allowedSlots),
    replacedBy: (served) => deps.current.replacedBy(served),
    predictRows: deps.predictClient.predictRows,
    tableSizes: deps.tableSizes,
    write: async (messages) => {
      const batches = splitByBytes(
        messages.map((message) => ({ topic: cfg.topics.shadows, message })),
        options.maxWriteBytes ?? DEFAULT_MAX_WRITE_BYTES,
      );
      for (const topicMessages of batches) await deps.producer.sendBatch({ acks: -1, topicMessages });
    },
    metrics: deps.metrics,
    log: deps.log,
  });
}

const START_DECISION_MS = 10_000;

/** Follows the models topic into the current model, starting from the newest servable descriptor. */
async function descriptorFollower(
  kafka: Kafka,
  topic: string,
  settings: Settings,
  descriptors: DescriptorAdopter,
  log: Log,
): Promise<DescriptorFollower> {
  let started = false;
  const early: PublishedDescriptor[] = [];
  const follower = await followDescriptors({
    kafka,
    topic,
    groupPrefix: `${settings.groupId}-models`,
    // one delivered before the history is decided waits for it: it is newer
    onDescriptor: (p) => (started ? void descriptors.apply(p) : early.push(p)),
    onUndecodable: (reason, partition, offset) => descriptors.reject(`undecodable: ${reason}`, { partition, offset }),
    log,
  });
  // Waited for (requests should meet the model already published), but at most
  // a while: an unreachable store must not stop the server; the decision goes on.
  const decided = descriptors.start(follower.history);
  await Promise.race([decided, delay(START_DECISION_MS, undefined, { ref: false })]);
  started = true;
  for (const p of early.splice(0)) void descriptors.apply(p);
  return follower;
}

/**
 * Starts the requests consumer's loop: at once, or (holding) once the first
 * model is known — held requests wait on Kafka, uncommitted. A loop that
 * cannot start is recorded in `run` for /healthz.
 */
function consumeOnceServable(deps: {
  consumer: Consumer;
  processor: RequestProcessor;
  current: CurrentModel;
  holding: boolean;
  run: RunState;
  closed: () => boolean;
  log: Log;
}): void {
  const { consumer, processor, run, log } = deps;
  void (deps.holding ? deps.current.whenAvailable() : Promise.resolve()).then(async () => {
    if (deps.closed()) return;
    try {
      await consumer.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch: (payload) => processor.eachBatch(payload) });
    } catch (err) {
      run.crashed = errorText(err);
      log('error', 'the requests consumer did not start', { error: run.crashed });
    }
  });
}

/** The `mdata` consumer, connected and subscribed, its state mirrored into `run`. */
async function requestsConsumer(
  kafka: Kafka,
  topic: string,
  groupId: string,
  fromBeginning: boolean,
  run: RunState,
  markConsuming: () => void,
  log: Log,
): Promise<Consumer> {
  const c = kafka.consumer({ groupId, allowAutoTopicCreation: false, maxWaitTimeInMs: 20 });
  c.on(c.events.GROUP_JOIN, () => {
    run.consuming = true;
    markConsuming();
  });
  c.on(c.events.STOP, () => (run.consuming = false));
  c.on(c.events.CRASH, (event) => {
    run.consuming = false;
    if (!event.payload.restart) run.crashed = errorText(event.payload.error);
    log('error', 'requests consumer crashed', { error: errorText(event.payload.error), restart: event.payload.restart });
  });
  await c.connect();
  await c.subscribe({ topic, fromBeginning });
  return c;
}
