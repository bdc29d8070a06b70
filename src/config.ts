/**
 * The one place that reads the environment. Every host, port, bucket, topic,
 * task queue and credential has the local-stack default of docs/design.md and can
 * be overridden by an environment variable; a malformed value stops the
 * process with a message that names the variable.
 */
import { FailureType } from './failure-types';
import { loadClientConfigProfile, type ClientConfigProfile } from '@temporalio/envconfig';
import { z } from 'zod';
import { DEFAULT_REGISTRY_KEY } from './store/layout';

const port = z.coerce.number().int().min(1).max(65535);
const name = z
  .string()
  .min(1)
  .regex(/^[A-Za-z0-9._\-/]+$/, 'letters, digits, ".", "_", "-" or "/" only');
const url = z.string().url();

/** Environment variable → schema, with the docs/design.md defaults. */
const schema = z.object({
  // The rest of the connection (TLS, API key, gRPC metadata, TEMPORAL_PROFILE and
  // TEMPORAL_CONFIG_FILE) is Temporal's own environment configuration, read by
  // @temporalio/envconfig as the temporal CLI reads it; these two are checked here
  // for their shape only.
  TEMPORAL_ADDRESS: z
    .string()
    .regex(/^[^\s:]+:\d+$/, 'expected host:port')
    .optional(),
  TEMPORAL_NAMESPACE: name.optional(),
  // envconfig reads anything but "1"/"true" as false: refuse a typo instead of silently dropping TLS
  TEMPORAL_TLS: z.enum(['true', 'false', '1', '0']).optional(),
  TEMPORAL_UI_URL: url.default('http://127.0.0.1:8233'),
  TASK_QUEUE_TRAINING: name.default('recommender-training'),
  TASK_QUEUE_SERVING: name.default('recommender-serving'),
  SCHEDULE_ID: name.default('recommender-retrain'),
  RETENTION_SCHEDULE_ID: name.default('recommender-retention'),
  TRAINING_WORKER_MAX_ACTIVITIES: z.coerce.number().int().min(1).max(64).default(1),

  MINIO_ENDPOINT: url.default('http://127.0.0.1:9000'),
  MINIO_ACCESS_KEY: z.string().min(1).default('minio'),
  MINIO_SECRET_KEY: z.string().min(1).default('minio123'),
  MINIO_REGION: z.string().default('us-east-1'),
  DATA_BUCKET: name.default('data'),
  DATA_PREFIX: name.default('recommender'),
  // ids above these are bad lines (ids are table rows); the reader's defaults are 2^24 - 1
  DATA_MAX_USER_ID: z.coerce.number().int().min(0).max(0x7fff_ffff).optional(),
  DATA_MAX_PRODUCT_ID: z.coerce.number().int().min(0).max(0x7fff_ffff).optional(),
  MODELS_BUCKET: name.default('models'),
  REGISTRY_KEY: name.default(DEFAULT_REGISTRY_KEY),

  KAFKA_BROKERS: z
    .string()
    .regex(/^[^\s,:]+:\d+(,[^\s,:]+:\d+)*$/, 'expected a comma-separated list of host:port')
    .default('127.0.0.1:9092'),
  KAFKA_CLIENT_ID: name.default('recommender'),
  // Authentication to Kafka (the Strimzi listeners of deploy/k8s require SCRAM-SHA-512 per component); none locally
  KAFKA_SASL_MECHANISM: z.enum(['scram-sha-512', 'scram-sha-256', 'plain']).optional(),
  KAFKA_SASL_USERNAME: z.string().min(1).optional(),
  KAFKA_SASL_PASSWORD: z.string().min(1).optional(),
  /** PEM file of the CA that signed the brokers' certificates: connect with TLS */
  KAFKA_SSL_CA_FILE: z.string().min(1).optional(),
  TOPIC_REQUESTS: name.default('mdata'),
  TOPIC_MODELS: name.default('models'),
  TOPIC_RESULTS: name.default('recommendations'),
  TOPIC_DLQ: name.default('mdata-dlq'),
  // what the shadows would have answered to served requests (docs/design.md, "Quality out")
  TOPIC_SHADOWS: name.default('recommendations-shadow'),

  // ingested purchases (docs/design.md, "Purchases in")
  TOPIC_PURCHASES: name.default('purchases'),
  TOPIC_PURCHASES_DLQ: name.default('purchases-dlq'),
  PURCHASES_GROUP: name.default('data-publisher'),
  // largest customer / product id a purchase may carry (ids are table rows): at most the history
  // parser's own bound (DEFAULT_MAX_ID of src/ml/dataset/read-options.ts), or a kept purchase would be a bad line
  PURCHASES_MAX_USER_ID: z.coerce.number().int().min(0).max(0xff_ffff).default(0xff_ffff),
  PURCHASES_MAX_PRODUCT_ID: z.coerce.number().int().min(0).max(0xff_ffff).default(0xff_ffff),
  PURCHASES_MAX_PRODUCTS: z.coerce.number().int().min(1).max(100_000).default(1000),
  /** how far a purchase's time may be after its record's Kafka timestamp */
  PURCHASES_MAX_FUTURE_MS: z.coerce
    .number()
    .int()
    .min(0)
    .default(24 * 3600 * 1000),
  /** a purchase whose id was kept within this many offsets before it (same partition) is a duplicate */
  PURCHASES_DEDUP_WINDOW: z.coerce.number().int().min(0).max(10_000_000).default(50_000),
  SEGMENT_MAX_PURCHASES: z.coerce.number().int().min(1).max(10_000_000).default(20_000),
  SEGMENT_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(1024 * 1024 * 1024)
    .default(4 * 1024 * 1024),
  SEGMENT_MAX_AGE_MS: z.coerce.number().int().min(10).max(3_600_000).default(5_000),
  /** compaction: most purchases held to put one partition's events in time order (docs/design.md) */
  HISTORY_REORDER_WINDOW: z.coerce.number().int().min(1).max(10_000_000).default(10_000),
  DATA_PUBLISHER_PORT: port.default(8091),
  /** the data publisher triggers the retrain Schedule once this many records arrived since the last history (0: never) */
  RETRAIN_AFTER_PURCHASES: z.coerce.number().int().min(0).default(0),
  /** how soon the group notices a data publisher that died (kafkajs' default; the broker's minimum is 6 s) */
  DATA_PUBLISHER_SESSION_TIMEOUT_MS: z.coerce.number().int().min(6000).max(300_000).default(30_000),

  // the online evaluator (docs/design.md, "Quality out")
  EVALUATOR_GROUP: name.default('online-evaluator'),
  EVALUATOR_PORT: port.default(8092),
  /** a purchase is attributed to the customer's latest served request at most this long before it (event time) */
  EVALUATOR_WINDOW_MS: z.coerce
    .number()
    .int()
    .min(1)
    .default(24 * 3600 * 1000),
  /** how far out of event-time order a record may come within its partition (later: dropped as late, counted) */
  EVALUATOR_GRACE_MS: z.coerce.number().int().min(0).default(60_000),
  /** "repeat": a purchased product the customer bought in an earlier purchase at most this long before (event time) */
  EVALUATOR_REPEAT_HORIZON_MS: z.coerce
    .number()
    .int()
    .min(0)
    .default(30 * 24 * 3600 * 1000),
  /** how often the evaluator checkpoints figures, state and offsets to MinIO */
  EVALUATOR_CHECKPOINT_MS: z.coerce.number().int().min(10).max(3_600_000).default(5_000),
  EVALUATOR_SESSION_TIMEOUT_MS: z.coerce.number().int().min(6000).max(300_000).default(30_000),
  /** /healthz fails for a partition with records not checkpointed and no checkpoint written for this long (an idle one never) */
  EVALUATOR_STALL_MS: z.coerce.number().int().min(1000).max(3_600_000).default(60_000),
  /** a caught-up partition with a waiting purchase and no record for this long (wall clock) closes it; unset: 2 × the grace; 0 = off */
  EVALUATOR_IDLE_MS: z.coerce.number().int().min(0).optional(),
  /** the online rollback policy (src/evaluation/online-rollback.ts): purchases paired with the previous model's shadow needed first; 0 = off */
  ONLINE_ROLLBACK_MIN_PAIRS: z.coerce.number().int().min(0).default(0),
  ONLINE_ROLLBACK_CHECK_MS: z.coerce.number().int().min(100).max(3_600_000).default(10_000),

  SLOT_NAMES: z
    .string()
    .regex(/^[A-Za-z0-9_-]+,[A-Za-z0-9_-]+$/, 'expected two slot names, comma-separated')
    .default('recommender,recommender1'),
  SLOT_HOST: z.string().min(1).default('127.0.0.1'),
  SLOT_PORTS: z
    .string()
    .regex(/^\d+,\d+$/, 'expected two ports, comma-separated')
    .default('8501,8502'),
  // TF Serving's gRPC API of each slot, on its own port (TF Serving: 8500 beside REST 8501)
  SLOT_GRPC_PORTS: z
    .string()
    .regex(/^\d+,\d+$/, 'expected two ports, comma-separated')
    .default('8500,8503'),
  SLOT_MAX_BATCH_ROWS: z.coerce.number().int().min(1).max(10_000_000).default(100_000),
  SLOT_MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(1024 * 1024 * 1024)
    .default(16 * 1024 * 1024),
  /** server-side batching of concurrent predict calls (TF Serving's max_batch_size, batch_timeout_micros); 1 row = off */
  SLOT_BATCH_MAX_ROWS: z.coerce.number().int().min(1).max(10_000_000).default(20_000),
  SLOT_BATCH_TIMEOUT_MICROS: z.coerce.number().int().min(0).max(1_000_000).default(0),
  /**
   * a DNS name whose addresses are every slot replica (Kubernetes: the headless Service
   * recommender-slots-replicas); readiness checks each on the slot's ports. Unset: SLOT_HOST is the one replica
   */
  SLOT_REPLICAS_HOST: z.string().min(1).optional(),
  /** how the readiness check reads a slot's version status: TF Serving's REST API or its gRPC GetModelStatus */
  READINESS_API: z.enum(['rest', 'grpc']).default('rest'),
  /** most (user, product) rows the model server puts in one predict call (the slot accepts up to 100,000) */
  PREDICT_MAX_ROWS: z.coerce.number().int().min(1).max(100_000).default(20_000),
  /**
   * what the model server does with requests before the first model is published:
   * `fallback` answers them at once from the popularity ranking (outcome "fallback"),
   * `hold` leaves them uncommitted on Kafka until a model exists (docs/serving.md)
   */
  SERVING_BEFORE_FIRST_MODEL: z.enum(['fallback', 'hold']).default('fallback'),
  /** most products a visit request (`top` > 0) is answered with; a larger `top` is cut to it (docs/serving.md) */
  SERVING_MAX_TOP: z.coerce.number().int().min(1).max(10_000).default(100),
  /** share of answered requests also scored by the standby slot's model, as a previous-model shadow (0: none) */
  SHADOW_SHARE: z.coerce.number().min(0).max(1).default(0.1),
  /** previous-model shadows waiting to be scored; more are dropped and counted */
  SHADOW_QUEUE_MAX: z.coerce.number().int().min(1).max(1_000_000).default(1000),
});

export type Env = z.infer<typeof schema>;

export interface SlotConfig {
  /** TF Serving model name = base path under the models bucket */
  name: string;
  port: number;
  /** base URL of the slot's REST API, e.g. http://127.0.0.1:8501 */
  baseUrl: string;
  grpcPort: number;
  /** host:port of the slot's gRPC API, e.g. 127.0.0.1:8500 */
  grpcAddress: string;
}

/** What an ingested purchase may carry (a purchase outside them is dead-lettered). */
export interface PurchaseLimits {
  maxUserId: number;
  maxProductId: number;
  maxProducts: number;
  maxFutureMs: number;
}

/** The purchases topic, the data publisher and compaction (docs/design.md, "Purchases in"). */
export interface PurchasesConfig {
  topic: string;
  dlqTopic: string;
  groupId: string;
  limits: PurchaseLimits;
  dedupWindow: number;
  segment: { maxPurchases: number; maxBytes: number; maxAgeMs: number };
  reorderWindow: number;
  /** the data publisher's /metrics and /healthz */
  port: number;
  sessionTimeoutMs: number;
  /** records ingested since the newest compacted history that trigger the retrain Schedule (0: off) */
  retrainAfter: number;
}

/** The online evaluator (docs/design.md, "Quality out"). */
export interface EvaluatorConfig {
  groupId: string;
  /** REST /metrics and /healthz */
  port: number;
  windowMs: number;
  graceMs: number;
  repeatHorizonMs: number;
  checkpointMs: number;
  sessionTimeoutMs: number;
  /** records behind and no checkpoint written for this long: /healthz unhealthy */
  stallMs: number;
  /** wall-clock quiet after which a caught-up partition's marks advance past its newest event time (0: never) */
  idleMs: number;
}

export interface Config {
  temporal: {
    address: string;
    namespace: string;
    /**
     * Temporal's client profile (config file profile overlaid with TEMPORAL_* variables): TLS,
     * API key, gRPC metadata. Holds secrets: never log it or pass it to a workflow.
     */
    profile: ClientConfigProfile;
    uiUrl: string;
    taskQueues: { training: string; serving: string };
    scheduleId: string;
    /** the Schedule of retention runs (`recommender retention create`) */
    retentionScheduleId: string;
    /** activities one training worker runs at once: 1, since one training uses every core */
    trainingWorkerMaxActivities: number;
  };
  minio: {
    endPoint: string;
    port: number;
    useSSL: boolean;
    accessKey: string;
    secretKey: string;
    region: string;
  };
  buckets: { data: string; models: string };
  dataPrefix: string;
  /** largest customer and product ids accepted in the purchase history (undefined: the reader's default) */
  dataLimits: { maxUserId?: number; maxProductId?: number };
  /** the deployment registry object in the models bucket */
  registryKey: string;
  kafka: {
    brokers: string[];
    clientId: string;
    /** credentials (secrets: never logged or passed to a workflow) */
    sasl?: { mechanism: 'scram-sha-512' | 'scram-sha-256' | 'plain'; username: string; password: string };
    sslCaFile?: string;
  };
  topics: { requests: string; models: string; results: string; dlq: string; shadows: string };
  purchases: PurchasesConfig;
  evaluator: EvaluatorConfig;
  /** the online rollback policy; minPairs 0 = off */
  onlineRollback: { minPairs: number; checkMs: number };
  slots: [SlotConfig, SlotConfig];
  /** limits of one predict call to a slot */
  slotLimits: { maxBatchRows: number; maxBodyBytes: number };
  /** server-side batching of concurrent predict calls in a slot */
  slotBatching: { maxBatchSize: number; batchTimeoutMicros: number };
  readinessApi: 'rest' | 'grpc';
  /** DNS name listing every slot replica (src/serving/replicas.ts); undefined: the slot's address is the one replica */
  slotReplicasHost?: string;
  serving: {
    maxPredictRows: number;
    beforeFirstModel: 'fallback' | 'hold';
    maxTop: number;
    shadows: { share: number; queueMax: number };
  };
}

export class ConfigError extends Error {
  override name = FailureType.Config;
}

/** Temporal's client profile for `env`; a bad config file or an unknown profile is a ConfigError naming it. */
function loadTemporalProfile(env: NodeJS.ProcessEnv): ClientConfigProfile {
  const vars = Object.fromEntries(Object.entries(env).filter((kv): kv is [string, string] => kv[1] !== undefined));
  try {
    return loadClientConfigProfile({ overrideEnvVars: vars });
  } catch (error) {
    const source = env.TEMPORAL_CONFIG_FILE ? `TEMPORAL_CONFIG_FILE=${env.TEMPORAL_CONFIG_FILE}` : "Temporal's default config file";
    const profile = env.TEMPORAL_PROFILE ? `, TEMPORAL_PROFILE=${env.TEMPORAL_PROFILE}` : '';
    throw new ConfigError(
      `invalid Temporal client configuration (${source}${profile}): ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

/** The two slots from SLOT_NAMES / SLOT_HOST / SLOT_PORTS / SLOT_GRPC_PORTS, checked against each other. */
function slotConfigs(e: Env): [SlotConfig, SlotConfig] {
  const slotNames = e.SLOT_NAMES.split(',');
  const slotPorts = e.SLOT_PORTS.split(',').map((p, i) => {
    const r = port.safeParse(p);
    if (!r.success) throw new ConfigError(`SLOT_PORTS: entry ${i + 1} ("${p}") is not a valid port`);
    return r.data;
  });
  const grpcPorts = e.SLOT_GRPC_PORTS.split(',').map((p, i) => {
    const r = port.safeParse(p);
    if (!r.success) throw new ConfigError(`SLOT_GRPC_PORTS: entry ${i + 1} ("${p}") is not a valid port`);
    return r.data;
  });
  const slot = (i: 0 | 1): SlotConfig => ({
    name: slotNames[i],
    port: slotPorts[i],
    baseUrl: `http://${e.SLOT_HOST}:${slotPorts[i]}`,
    grpcPort: grpcPorts[i],
    grpcAddress: `${e.SLOT_HOST}:${grpcPorts[i]}`,
  });
  if (slotNames[0] === slotNames[1]) throw new ConfigError('SLOT_NAMES: the two slots need different names');
  // Two slots may share a REST port behind one host (a Service with both names); a gRPC port may not be a REST port.
  if (grpcPorts[0] === grpcPorts[1] || grpcPorts.some((p) => slotPorts.includes(p))) {
    throw new ConfigError(
      `SLOT_GRPC_PORTS: the two gRPC ports must differ from each other and from SLOT_PORTS, got ${grpcPorts.join(', ')} (REST ${slotPorts.join(', ')})`,
    );
  }
  return [slot(0), slot(1)];
}

/** Brokers, client id and, when configured, SASL credentials (all three variables or none) and the TLS CA. */
function kafkaConfig(e: Env): Config['kafka'] {
  const { KAFKA_SASL_MECHANISM: mechanism, KAFKA_SASL_USERNAME: username, KAFKA_SASL_PASSWORD: password } = e;
  const given = [mechanism, username, password].filter((v) => v !== undefined).length;
  if (given !== 0 && given !== 3) {
    throw new ConfigError('KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD go together: set all three or none');
  }
  return {
    brokers: e.KAFKA_BROKERS.split(','),
    clientId: e.KAFKA_CLIENT_ID,
    ...(mechanism && username && password && { sasl: { mechanism, username, password } }),
    ...(e.KAFKA_SSL_CA_FILE !== undefined && { sslCaFile: e.KAFKA_SSL_CA_FILE }),
  };
}

/** The data publisher's settings (docs/design.md, "Purchases in"). */
function purchasesConfig(e: Env): Config['purchases'] {
  return {
    topic: e.TOPIC_PURCHASES,
    dlqTopic: e.TOPIC_PURCHASES_DLQ,
    groupId: e.PURCHASES_GROUP,
    limits: {
      maxUserId: e.PURCHASES_MAX_USER_ID,
      maxProductId: e.PURCHASES_MAX_PRODUCT_ID,
      maxProducts: e.PURCHASES_MAX_PRODUCTS,
      maxFutureMs: e.PURCHASES_MAX_FUTURE_MS,
    },
    dedupWindow: e.PURCHASES_DEDUP_WINDOW,
    segment: { maxPurchases: e.SEGMENT_MAX_PURCHASES, maxBytes: e.SEGMENT_MAX_BYTES, maxAgeMs: e.SEGMENT_MAX_AGE_MS },
    reorderWindow: e.HISTORY_REORDER_WINDOW,
    port: e.DATA_PUBLISHER_PORT,
    sessionTimeoutMs: e.DATA_PUBLISHER_SESSION_TIMEOUT_MS,
    retrainAfter: e.RETRAIN_AFTER_PURCHASES,
  };
}

/** Parse and validate configuration from an environment (process.env by default). */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => {
      const variable = i.path.join('.');
      return `${variable}=${JSON.stringify(env[variable] ?? '')}: ${i.message}`;
    });
    throw new ConfigError(`invalid configuration in the environment:\n  ${problems.join('\n  ')}`);
  }
  const e = parsed.data;
  const temporalProfile = loadTemporalProfile(env);
  const minioUrl = new URL(e.MINIO_ENDPOINT);
  const useSSL = minioUrl.protocol === 'https:';
  const slots = slotConfigs(e);
  return {
    temporal: {
      // environment over the profile over the local stack's defaults (docs/design.md)
      address: temporalProfile.address ?? '127.0.0.1:7233',
      namespace: temporalProfile.namespace ?? 'default',
      profile: temporalProfile,
      uiUrl: e.TEMPORAL_UI_URL.replace(/\/$/, ''),
      taskQueues: { training: e.TASK_QUEUE_TRAINING, serving: e.TASK_QUEUE_SERVING },
      scheduleId: e.SCHEDULE_ID,
      retentionScheduleId: e.RETENTION_SCHEDULE_ID,
      trainingWorkerMaxActivities: e.TRAINING_WORKER_MAX_ACTIVITIES,
    },
    minio: {
      endPoint: minioUrl.hostname,
      port: minioUrl.port ? Number(minioUrl.port) : useSSL ? 443 : 80,
      useSSL,
      accessKey: e.MINIO_ACCESS_KEY,
      secretKey: e.MINIO_SECRET_KEY,
      region: e.MINIO_REGION,
    },
    buckets: { data: e.DATA_BUCKET, models: e.MODELS_BUCKET },
    dataPrefix: e.DATA_PREFIX,
    dataLimits: {
      ...(e.DATA_MAX_USER_ID !== undefined && { maxUserId: e.DATA_MAX_USER_ID }),
      ...(e.DATA_MAX_PRODUCT_ID !== undefined && { maxProductId: e.DATA_MAX_PRODUCT_ID }),
    },
    registryKey: e.REGISTRY_KEY,
    kafka: kafkaConfig(e),
    topics: { requests: e.TOPIC_REQUESTS, models: e.TOPIC_MODELS, results: e.TOPIC_RESULTS, dlq: e.TOPIC_DLQ, shadows: e.TOPIC_SHADOWS },
    purchases: purchasesConfig(e),
    evaluator: {
      groupId: e.EVALUATOR_GROUP,
      port: e.EVALUATOR_PORT,
      windowMs: e.EVALUATOR_WINDOW_MS,
      graceMs: e.EVALUATOR_GRACE_MS,
      repeatHorizonMs: e.EVALUATOR_REPEAT_HORIZON_MS,
      checkpointMs: e.EVALUATOR_CHECKPOINT_MS,
      sessionTimeoutMs: e.EVALUATOR_SESSION_TIMEOUT_MS,
      stallMs: e.EVALUATOR_STALL_MS,
      idleMs: e.EVALUATOR_IDLE_MS ?? 2 * e.EVALUATOR_GRACE_MS,
    },
    onlineRollback: { minPairs: e.ONLINE_ROLLBACK_MIN_PAIRS, checkMs: e.ONLINE_ROLLBACK_CHECK_MS },
    slots,
    slotLimits: { maxBatchRows: e.SLOT_MAX_BATCH_ROWS, maxBodyBytes: e.SLOT_MAX_BODY_BYTES },
    slotBatching: { maxBatchSize: e.SLOT_BATCH_MAX_ROWS, batchTimeoutMicros: e.SLOT_BATCH_TIMEOUT_MICROS },
    readinessApi: e.READINESS_API,
    ...(e.SLOT_REPLICAS_HOST !== undefined && { slotReplicasHost: e.SLOT_REPLICAS_HOST }),
    serving: {
      maxPredictRows: e.PREDICT_MAX_ROWS,
      beforeFirstModel: e.SERVING_BEFORE_FIRST_MODEL,
      maxTop: e.SERVING_MAX_TOP,
      shadows: { share: e.SHADOW_SHARE, queueMax: e.SHADOW_QUEUE_MAX },
    },
  };
}
