/**
 * deploy/compose/compose.yaml, loaded with compose-go (the Compose
 * Specification's loader that `docker compose` uses: schema, interpolation,
 * the .env file, profiles, consistency checks), as `docker compose config`
 * would, without a Docker engine.
 */
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config';
import { DEPLOY, run, scratchDir, validators } from './tools';

const COMPOSE_DIR = path.join(DEPLOY, 'compose');
const COMPOSE_FILE = path.join(COMPOSE_DIR, 'compose.yaml');

type Service = {
  image?: string;
  build?: { context: string; dockerfile: string; target?: string };
  command?: string[] | null;
  entrypoint?: string[] | null;
  environment?: Record<string, string | null>;
  depends_on?: Record<string, { condition: string }>;
  network_mode?: string;
  ports?: { host_ip?: string; target: number; published: string }[];
  profiles?: string[];
  healthcheck?: { test?: string[]; disable?: boolean };
  volumes?: { type: string; source: string; target: string; read_only?: boolean }[];
  restart?: string;
};
type Project = { name: string; services: Record<string, Service>; volumes?: Record<string, unknown> };

/** The credentials Compose requires (no defaults), as if set in the shell. */
export const SECRETS: Record<string, string> = {
  POSTGRES_PASSWORD: 'test-postgres',
  MINIO_ROOT_PASSWORD: 'test-root',
  MINIO_TRAINING_WORKER_SECRET_KEY: 'test-training-worker',
  MINIO_SERVING_WORKER_SECRET_KEY: 'test-serving-worker',
  MINIO_SLOTS_SECRET_KEY: 'test-slots',
  MINIO_DATA_PUBLISHER_SECRET_KEY: 'test-data-publisher',
  MINIO_ONLINE_EVALUATOR_SECRET_KEY: 'test-online-evaluator',
};
const secretArgs = (secrets: Record<string, string>) => Object.entries(secrets).flatMap(([k, v]) => ['-env', `${k}=${v}`]);

function load(args: string[], file = COMPOSE_FILE, secrets = SECRETS): { status: number; project?: Project; stderr: string } {
  const r = run(validators().composeCheck, [...secretArgs(secrets), ...args, file]);
  return { status: r.status, project: r.status === 0 ? (JSON.parse(r.stdout) as Project) : undefined, stderr: r.stderr };
}

const INFRA = ['postgresql', 'temporal', 'temporal-ui', 'temporal-init', 'kafka', 'kafka-init', 'minio', 'minio-init'];
const PROJECT = ['training-worker', 'serving-worker', 'data-publisher', 'online-evaluator', 'slots', 'schedule-init'];
let slots: Project;
let tfserving: Project;

beforeAll(() => {
  const a = load([]);
  if (!a.project) throw new Error(`compose-check failed: ${a.stderr}`);
  slots = a.project;
  const b = load(['-env', 'COMPOSE_PROFILES=tfserving']);
  if (!b.project) throw new Error(`compose-check failed: ${b.stderr}`);
  tfserving = b.project;
}, 15 * 60_000);

describe('Compose: the whole system on one host', () => {
  it('loads with the project slots by default and with TF Serving under the tfserving profile', () => {
    expect(Object.keys(slots.services).sort()).toEqual([...INFRA, ...PROJECT, 'slot-recommender', 'slot-recommender1'].sort());
    expect(Object.keys(tfserving.services).sort()).toEqual(
      [
        ...INFRA,
        ...PROJECT,
        'tfserving-recommender',
        'tfserving-recommender1',
        'tfserving-sync-recommender',
        'tfserving-sync-recommender1',
      ].sort(),
    );
    // --profile on the command line wins like COMPOSE_PROFILES from the shell
    expect(Object.keys(load(['-profile', 'tfserving']).project!.services)).toContain('tfserving-recommender1');
  });

  it('the default profile comes from deploy/compose/.env, which git must track', () => {
    expect(fs.readFileSync(path.join(COMPOSE_DIR, '.env'), 'utf8')).toMatch(/^COMPOSE_PROFILES=slots$/m);
    // the repository's .gitignore has `.env` (for secrets); this file holds none
    const ignored = run('git', ['check-ignore', '-q', path.join(COMPOSE_DIR, '.env')]);
    expect(ignored.status, 'deploy/compose/.env is ignored by git: add `!deploy/compose/.env` to .gitignore').toBe(1);
  });

  it('pins every image', () => {
    for (const p of [slots, tfserving]) {
      for (const [name, s] of Object.entries(p.services)) {
        expect(s.image, name).toBeDefined();
        expect(s.image, name).not.toMatch(/:latest$/);
        expect(s.image, name).toMatch(/:(\d+\.\d+(\.\d+)?|RELEASE\.\d{4}-\d\d-\d\dT[\d-]+Z)[\w.-]*$/);
      }
    }
    expect(slots.services.temporal.image).toMatch(/^temporalio\/auto-setup:/);
    expect(slots.services.kafka.image).toMatch(/^apache\/kafka:/);
    expect(slots.services.minio.image).toMatch(/^minio\/minio:/);
    expect(tfserving.services['tfserving-recommender'].image).toMatch(/^tensorflow\/serving:/);
  });

  it("the project's services are built from deploy/docker/Dockerfile and configured as src/config.ts reads it", () => {
    const targets: Record<string, string> = {
      'training-worker': 'training-worker',
      'serving-worker': 'serving-worker',
      'data-publisher': 'data-publisher',
      'online-evaluator': 'online-evaluator',
      slots: 'slot',
      'slot-recommender': 'slot',
      'slot-recommender1': 'slot',
      'schedule-init': 'training-worker',
    };
    for (const [name, target] of Object.entries(targets)) {
      const s = slots.services[name];
      expect(s.build?.dockerfile, name).toBe('deploy/docker/Dockerfile');
      expect(path.resolve(s.build!.context), name).toBe(path.resolve(DEPLOY, '..'));
      expect(s.build?.target, name).toBe(target);
      if (name === 'slots') continue;
      const env = Object.fromEntries(Object.entries(s.environment ?? {}).map(([k, v]) => [k, v ?? '']));
      const cfg = loadConfig(env); // throws on any malformed value
      expect(cfg.temporal.address).toBe('temporal:7233');
      expect(cfg.kafka.brokers).toEqual(['kafka:19092']);
      expect(`${cfg.minio.endPoint}:${cfg.minio.port}`).toBe('minio:9000');
    }
    // the serving worker reaches both slots at one host, as SLOT_HOST says
    expect(loadConfig(slots.services['serving-worker'].environment as NodeJS.ProcessEnv).slots.map((s) => s.baseUrl)).toEqual([
      'http://slots:8501',
      'http://slots:8502',
    ]);
    for (const name of ['slot-recommender', 'slot-recommender1']) {
      const s = slots.services[name];
      expect(s.network_mode).toBe('service:slots');
      expect(s.environment?.SLOT_HOST).toBe('0.0.0.0');
      expect(s.command).toEqual(['--slot', name.replace('slot-', '')]);
    }
    for (const name of ['tfserving-recommender', 'tfserving-recommender1'])
      expect(tfserving.services[name].network_mode).toBe('service:slots');
    const restPorts = ['tfserving-recommender', 'tfserving-recommender1'].map((n) =>
      tfserving.services[n].command!.find((a) => a.startsWith('--rest_api_port=')),
    );
    expect(restPorts).toEqual(['--rest_api_port=8501', '--rest_api_port=8502']);
    expect(slots.services.slots.ports?.map((p) => [p.host_ip, p.published, p.target])).toEqual([
      ['127.0.0.1', '8501', 8501],
      ['127.0.0.1', '8502', 8502],
      // TF Serving's gRPC API (SLOT_GRPC_PORTS)
      ['127.0.0.1', '8500', 8500],
      ['127.0.0.1', '8503', 8503],
    ]);
  });

  it('starts the workers only after the one-shot set-up jobs succeeded', () => {
    for (const w of ['training-worker', 'serving-worker', 'data-publisher', 'online-evaluator']) {
      const deps = slots.services[w].depends_on ?? {};
      for (const init of ['temporal-init', 'kafka-init', 'minio-init'])
        expect(deps[init]?.condition, `${w} -> ${init}`).toBe('service_completed_successfully');
    }
    expect(slots.services['schedule-init'].depends_on?.['temporal-init']?.condition).toBe('service_completed_successfully');
    for (const s of ['postgresql', 'temporal', 'kafka', 'minio']) expect(slots.services[s].healthcheck?.test?.length, s).toBeGreaterThan(0);
    expect(slots.services.temporal.depends_on?.postgresql?.condition).toBe('service_healthy');
  });

  it('the set-up scripts: topics, buckets, search attributes, schedule (shell syntax and contents)', () => {
    const init = path.join(COMPOSE_DIR, 'init');
    for (const f of fs.readdirSync(init)) {
      const shell = fs.readFileSync(path.join(init, f), 'utf8').startsWith('#!/bin/bash') ? 'bash' : 'sh';
      const r = run(shell, ['-n', path.join(init, f)]);
      expect(r.status, `${f}: ${r.stderr}`).toBe(0);
    }
    const topics = fs.readFileSync(path.join(init, 'kafka-topics.sh'), 'utf8');
    for (const t of ['TOPIC_REQUESTS:-mdata', 'TOPIC_MODELS:-models', 'TOPIC_RESULTS:-recommendations', 'TOPIC_DLQ:-mdata-dlq'])
      expect(topics).toContain(t);
    expect(topics).toMatch(/TOPIC_MODELS:-models}" 1 --config retention\.ms=-1/);
    expect(fs.readFileSync(path.join(init, 'schedule.sh'), 'utf8')).toMatch(/node dist\/cli\/main\.js schedule create/);
    // buckets, policies and users: the Kubernetes set-up Job's script and policies
    const minioSetup = path.join(DEPLOY, 'k8s/infra/minio/setup.sh');
    expect(run('sh', ['-n', minioSetup]).status).toBe(0);
    expect(fs.readFileSync(minioSetup, 'utf8')).toMatch(/mc mb --ignore-existing[\s\S]*mc admin user add[\s\S]*mc admin policy attach/);
    expect(slots.services['minio-init'].volumes?.map((v) => [v.source, v.target])).toEqual([
      [minioSetup, '/setup/setup.sh'],
      [path.join(DEPLOY, 'k8s/infra/minio/policies'), '/setup/policies'],
    ]);
    // every script a service mounts exists
    for (const p of [slots, tfserving]) {
      for (const [name, s] of Object.entries(p.services)) {
        for (const v of s.volumes ?? []) if (v.type === 'bind') expect(fs.existsSync(v.source), `${name}: ${v.source}`).toBe(true);
      }
    }
  });

  it('the loader rejects an unknown key, a dependency on a missing service, and an unset required variable', () => {
    const dir = scratchDir('compose-broken');
    try {
      const original = fs.readFileSync(COMPOSE_FILE, 'utf8');
      const write = (text: string) => {
        fs.writeFileSync(path.join(dir, 'compose.yaml'), text);
        return load([], path.join(dir, 'compose.yaml'));
      };
      expect(write(original).status).toBe(0); // the copy itself is fine
      const unknownKey = write(original.replace('  kafka-init:\n', '  kafka-init:\n    restart_policy: always\n'));
      expect(unknownKey.status).toBe(1);
      expect(unknownKey.stderr).toMatch(/restart_policy/);
      const missingDep = write(original.replace('postgresql: { condition: service_healthy }', 'postgres: { condition: service_healthy }'));
      expect(missingDep.status).toBe(1);
      expect(missingDep.stderr).toMatch(/postgres/);
      const required = write(original.replace('${RECOMMENDER_VERSION:-0.1.0}', '${RECOMMENDER_VERSION:?set it}'));
      expect(required.status).toBe(1);
      expect(required.stderr).toMatch(/set it/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('no default credentials: each unset secret stops Compose with its name', () => {
    for (const name of Object.keys(SECRETS)) {
      const { [name]: _unset, ...rest } = SECRETS;
      const r = load([], COMPOSE_FILE, rest);
      expect(r.status, name).toBe(1);
      expect(r.stderr).toMatch(
        new RegExp(`required variable ${name} is missing a value: set ${name} \\(shell or a private --env-file\\); no default credentials`),
      );
    }
    for (const p of [slots, tfserving]) expect(JSON.stringify(p)).not.toMatch(/minio123/);
  });

  it('each component has its own MinIO identity; the root account stays with MinIO and minio-init', () => {
    const identity: Record<string, string | undefined> = {
      'training-worker': 'training-worker',
      'serving-worker': 'serving-worker',
      'data-publisher': 'data-publisher',
      'online-evaluator': 'online-evaluator',
      'slot-recommender': 'slots',
      'slot-recommender1': 'slots',
      'tfserving-sync-recommender': 'slots',
      'tfserving-sync-recommender1': 'slots',
    };
    for (const p of [slots, tfserving]) {
      for (const [name, s] of Object.entries(p.services)) {
        const env = s.environment ?? {};
        const where = `${p === slots ? 'slots' : 'tfserving'}: ${name}`;
        expect(env.MINIO_ACCESS_KEY, where).toBe(identity[name]);
        if (identity[name])
          expect(env.MINIO_SECRET_KEY, where).toBe(SECRETS[`MINIO_${identity[name]!.toUpperCase().replace(/-/g, '_')}_SECRET_KEY`]);
        const root = Object.values(env).includes(SECRETS.MINIO_ROOT_PASSWORD);
        expect(root, `${where} holds the root credential`).toBe(name === 'minio' || name === 'minio-init');
      }
    }
    // minio-init creates exactly these users, with the identities' secrets
    const init = slots.services['minio-init'].environment!;
    for (const user of ['training-worker', 'serving-worker', 'slots', 'data-publisher', 'online-evaluator']) {
      const v = user.toUpperCase().replace(/-/g, '_');
      expect(init[`MINIO_${v}_ACCESS_KEY`]).toBe(user);
      expect(init[`MINIO_${v}_SECRET_KEY`]).toBe(SECRETS[`MINIO_${v}_SECRET_KEY`]);
    }
    // the tfserving sync sidecar: the slot image running the fail-closed sync script
    const sync = tfserving.services['tfserving-sync-recommender'];
    expect(sync.image).toMatch(/^recommender-slot:/);
    expect(sync.entrypoint).toEqual(['node', '/app/deploy/tfserving/sync-versions.mjs']);
    expect(sync.command).toEqual(['recommender', '/models']);
  });

  it('deploy/tfserving/compose.yaml: the same sidecar, and no default credential', () => {
    const file = path.join(DEPLOY, 'tfserving/compose.yaml');
    const missing = load([], file, {});
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/required variable MINIO_SLOTS_SECRET_KEY is missing a value/);
    const ok = load([], file, { MINIO_SLOTS_SECRET_KEY: 'x' });
    expect(ok.status, ok.stderr).toBe(0);
    for (const name of ['sync-recommender', 'sync-recommender1']) {
      const s = ok.project!.services[name];
      expect(s.entrypoint).toEqual(['node', '/app/deploy/tfserving/sync-versions.mjs']);
      expect(s.environment?.MINIO_ACCESS_KEY).toBe('slots');
    }
  });
});
