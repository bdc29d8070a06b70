import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../src/config';
import { DEFAULT_MAX_ID } from '../../src/ml/dataset';
import { connectionOptions } from '../../src/temporal/connection';

describe('configuration', () => {
  it('has the docs/design.md local-stack defaults', () => {
    const cfg = loadConfig({});
    expect(cfg.temporal).toMatchObject({
      address: '127.0.0.1:7233',
      namespace: 'default',
      taskQueues: { training: 'recommender-training', serving: 'recommender-serving' },
      scheduleId: 'recommender-retrain',
    });
    expect(cfg.minio).toMatchObject({ endPoint: '127.0.0.1', port: 9000, useSSL: false, accessKey: 'minio' });
    expect(cfg.buckets).toEqual({ data: 'data', models: 'models' });
    expect(cfg.topics).toEqual({
      requests: 'mdata',
      models: 'models',
      results: 'recommendations',
      dlq: 'mdata-dlq',
      shadows: 'recommendations-shadow',
    });
    expect(cfg.kafka.brokers).toEqual(['127.0.0.1:9092']);
    expect(cfg.slots.map((s) => [s.name, s.port, s.baseUrl])).toEqual([
      ['recommender', 8501, 'http://127.0.0.1:8501'],
      ['recommender1', 8502, 'http://127.0.0.1:8502'],
    ]);
  });

  it('purchases: the topics, limits and segment sizes of docs/design.md, bounded by the history parser', () => {
    const cfg = loadConfig({});
    expect(cfg.purchases).toMatchObject({
      topic: 'purchases',
      dlqTopic: 'purchases-dlq',
      groupId: 'data-publisher',
      limits: { maxUserId: DEFAULT_MAX_ID, maxProductId: DEFAULT_MAX_ID, maxProducts: 1000, maxFutureMs: 86_400_000 },
      dedupWindow: 50_000,
      segment: { maxPurchases: 20_000, maxBytes: 4 * 1024 * 1024, maxAgeMs: 5_000 },
      retrainAfter: 0,
    });
    // a kept purchase must stay a valid history line: ids beyond the parser's bound are refused
    expect(() => loadConfig({ PURCHASES_MAX_USER_ID: String(DEFAULT_MAX_ID + 1) })).toThrow(/PURCHASES_MAX_USER_ID="16777216"/);
    expect(() => loadConfig({ SEGMENT_MAX_AGE_MS: 'soon' })).toThrow(/SEGMENT_MAX_AGE_MS/);
  });

  it('the online evaluator: its group, port, window, grace, repeat horizon, stall and idle times of docs/design.md', () => {
    expect(loadConfig({}).evaluator).toEqual({
      groupId: 'online-evaluator',
      port: 8092,
      windowMs: 86_400_000,
      graceMs: 60_000,
      repeatHorizonMs: 30 * 86_400_000,
      checkpointMs: 5_000,
      sessionTimeoutMs: 30_000,
      stallMs: 60_000,
      idleMs: 120_000,
    });
    expect(() => loadConfig({ EVALUATOR_WINDOW_MS: '0' })).toThrow(/EVALUATOR_WINDOW_MS/);
    // the idle time follows the grace unless set; 0 turns the idle advance off
    expect(loadConfig({ EVALUATOR_GRACE_MS: '300000' }).evaluator.idleMs).toBe(600_000);
    expect(loadConfig({ EVALUATOR_GRACE_MS: '300000', EVALUATOR_IDLE_MS: '0' }).evaluator.idleMs).toBe(0);
    expect(() => loadConfig({ EVALUATOR_STALL_MS: '10' })).toThrow(/EVALUATOR_STALL_MS/);
  });

  it('takes overrides from the environment', () => {
    const cfg = loadConfig({ MINIO_ENDPOINT: 'https://s3.example.com', KAFKA_BROKERS: 'a:1,b:2', TOPIC_REQUESTS: 'req' });
    expect(cfg.minio).toMatchObject({ endPoint: 's3.example.com', port: 443, useSSL: true });
    expect(cfg.kafka.brokers).toEqual(['a:1', 'b:2']);
    expect(cfg.topics.requests).toBe('req');
  });

  it("reads Temporal's own client profile (config file, then TEMPORAL_* variables over it)", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'envconfig-'));
    try {
      const file = path.join(dir, 'temporal.toml');
      writeFileSync(path.join(dir, 'ca.pem'), 'not checked here');
      writeFileSync(
        file,
        [
          '[profile.prod]',
          'address = "prod.tmprl.example:7233"',
          'namespace = "recs"',
          '[profile.prod.tls]',
          `server_ca_cert_path = "${path.join(dir, 'ca.pem')}"`,
          'server_name = "prod.tmprl.example"',
          '',
        ].join('\n'),
      );
      const fromFile = loadConfig({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'prod' });
      expect(fromFile.temporal).toMatchObject({ address: 'prod.tmprl.example:7233', namespace: 'recs' });
      const options = connectionOptions(fromFile.temporal);
      expect(options.address).toBe('prod.tmprl.example:7233');
      expect(options.tls).toMatchObject({ serverNameOverride: 'prod.tmprl.example' });
      expect(Buffer.from((options.tls as { serverRootCACertificate: Uint8Array }).serverRootCACertificate).toString()).toBe(
        'not checked here',
      );

      const overridden = loadConfig({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'prod', TEMPORAL_NAMESPACE: 'other' });
      expect(overridden.temporal.namespace).toBe('other');
      // an API key alone turns TLS on, as for the temporal CLI
      const cloud = connectionOptions(loadConfig({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_API_KEY: 'k' }).temporal);
      expect(cloud).toMatchObject({ address: '127.0.0.1:7233', apiKey: 'k', tls: true });

      writeFileSync(file, '[profile.prod\naddress = ');
      expect(() => loadConfig({ TEMPORAL_CONFIG_FILE: file })).toThrow(
        new RegExp(`invalid Temporal client configuration \\(TEMPORAL_CONFIG_FILE=${file}`),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([
    ['TEMPORAL_ADDRESS', 'localhost', 'expected host:port'],
    ['KAFKA_BROKERS', '127.0.0.1', 'host:port'],
    ['MINIO_ENDPOINT', 'not a url', 'MINIO_ENDPOINT'],
    ['SLOT_PORTS', '8501', 'two ports'],
    ['TEMPORAL_TLS', 'maybe', 'TEMPORAL_TLS'],
    ['SLOT_GRPC_PORTS', '8500', 'two ports'],
    ['SLOT_MAX_BATCH_ROWS', '0', 'SLOT_MAX_BATCH_ROWS'],
    ['SLOT_MAX_BODY_BYTES', 'lots', 'SLOT_MAX_BODY_BYTES'],
    ['READINESS_API', 'soap', 'READINESS_API'],
  ])('names the malformed variable %s', (variable, value, message) => {
    expect(() => loadConfig({ [variable]: value })).toThrowError(ConfigError);
    expect(() => loadConfig({ [variable]: value })).toThrowError(new RegExp(`${variable}=.*`));
    expect(() => loadConfig({ [variable]: value })).toThrowError(message);
  });

  it('rejects an out-of-range slot port by position', () => {
    expect(() => loadConfig({ SLOT_PORTS: '8501,99999' })).toThrowError(/SLOT_PORTS: entry 2/);
    expect(() => loadConfig({ SLOT_GRPC_PORTS: '0,8503' })).toThrowError(/SLOT_GRPC_PORTS: entry 1/);
  });

  it('gives each slot a gRPC port beside its REST port, and the predict limits (TF Serving: gRPC 8500, REST 8501)', () => {
    const cfg = loadConfig({});
    expect(cfg.slots.map((s) => [s.grpcPort, s.grpcAddress])).toEqual([
      [8500, '127.0.0.1:8500'],
      [8503, '127.0.0.1:8503'],
    ]);
    expect(cfg.slotLimits).toEqual({ maxBatchRows: 100_000, maxBodyBytes: 16 * 1024 * 1024 });
    expect(cfg.readinessApi).toBe('rest');
    const custom = loadConfig({
      SLOT_GRPC_PORTS: '9500,9501',
      SLOT_MAX_BATCH_ROWS: '20000',
      SLOT_MAX_BODY_BYTES: '1048576',
      READINESS_API: 'grpc',
    });
    expect(custom.slots.map((s) => s.grpcPort)).toEqual([9500, 9501]);
    expect(custom.slotLimits).toEqual({ maxBatchRows: 20_000, maxBodyBytes: 1_048_576 });
    expect(custom.readinessApi).toBe('grpc');
  });

  it('refuses a gRPC port that collides with a REST port', () => {
    expect(() => loadConfig({ SLOT_PORTS: '8501,8502', SLOT_GRPC_PORTS: '8500,8502' })).toThrowError(
      /SLOT_GRPC_PORTS: the two gRPC ports must differ .* got 8500, 8502/,
    );
    expect(() => loadConfig({ SLOT_GRPC_PORTS: '8500,8500' })).toThrowError(/SLOT_GRPC_PORTS/);
  });

  it('reads Kafka credentials (all three or none) and a TLS CA file; none by default', () => {
    expect(loadConfig({}).kafka).toEqual({ brokers: ['127.0.0.1:9092'], clientId: 'recommender' });
    const auth = loadConfig({
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: 'serving-worker',
      KAFKA_SASL_PASSWORD: 's3cret',
      KAFKA_SSL_CA_FILE: '/etc/kafka-ca/ca.crt',
    });
    expect(auth.kafka.sasl).toEqual({ mechanism: 'scram-sha-512', username: 'serving-worker', password: 's3cret' });
    expect(auth.kafka.sslCaFile).toBe('/etc/kafka-ca/ca.crt');
    expect(() => loadConfig({ KAFKA_SASL_USERNAME: 'serving-worker' })).toThrowError(/set all three or none/);
    expect(() => loadConfig({ KAFKA_SASL_MECHANISM: 'gssapi', KAFKA_SASL_USERNAME: 'a', KAFKA_SASL_PASSWORD: 'b' })).toThrowError(
      /KAFKA_SASL_MECHANISM/,
    );
  });
});
