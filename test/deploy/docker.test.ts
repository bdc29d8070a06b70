/**
 * deploy/docker: the Dockerfile through BuildKit's own Dockerfile frontend
 * (`docker build --check`'s checks, offline), its stages and targets, the
 * build-context filter, and the image's health check script run for real
 * against local servers.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEPLOY, REPO, run, scratchDir, validators } from './tools';

const DOCKERFILE = path.join(DEPLOY, 'docker/Dockerfile');
const HEALTHCHECK = path.join(DEPLOY, 'docker/healthcheck.mjs');

type Stage = {
  name: string;
  base: string;
  user?: string;
  entrypoint?: string[];
  cmd?: string[];
  healthcheck?: string[];
  expose?: string[];
  env?: Record<string, string>;
  args?: Record<string, string>;
  copyFrom?: string[];
  instructions: string[];
};
type Summary = { metaArgs: Record<string, string>; stages: Stage[] };

function check(file: string): { status: number; summary: Summary; stderr: string } {
  const r = run(validators().dockerfileCheck, [file]);
  return { status: r.status, summary: JSON.parse(r.stdout || '{"metaArgs":{},"stages":[]}') as Summary, stderr: r.stderr };
}

describe('Dockerfile', () => {
  let summary: Summary;
  beforeAll(() => {
    const r = check(DOCKERFILE);
    if (r.status !== 0) throw new Error(`dockerfile-check: ${r.stderr}`);
    summary = r.summary;
  }, 15 * 60_000);

  it('passes BuildKit build checks and has the five runnable targets on one runtime', () => {
    expect(summary.stages.map((s) => [s.name, s.base])).toEqual([
      ['build', 'node:${NODE_VERSION}-${DEBIAN_RELEASE}'],
      ['compile', 'node:${NODE_VERSION}-${DEBIAN_RELEASE}'],
      ['runtime', 'node:${NODE_VERSION}-${DEBIAN_RELEASE}-slim'],
      ['training-worker', 'runtime'],
      ['serving-worker', 'runtime'],
      ['data-publisher', 'runtime'],
      ['online-evaluator', 'runtime'],
      ['slot', 'runtime'],
    ]);
    expect(summary.metaArgs.NODE_VERSION).toMatch(/^20\.\d+\.\d+$/); // a full version, as engines >= 20.3 asks
    const byName = Object.fromEntries(summary.stages.map((s) => [s.name, s]));
    // the production build (tsc output), no TypeScript loader
    expect(byName['training-worker'].entrypoint).toEqual(['node', 'dist/worker.js']);
    expect(byName['serving-worker'].entrypoint).toEqual(['node', 'dist/serving/worker.js']);
    expect(byName['data-publisher'].entrypoint).toEqual(['node', 'dist/ingest/main.js']);
    expect(byName['online-evaluator'].entrypoint).toEqual(['node', 'dist/evaluation/main.js']);
    expect(byName.slot.entrypoint).toEqual(['node', 'dist/serving/slot/main.js']);
    expect(byName.slot.cmd).toEqual(['--slot', 'recommender']);
    expect(byName.slot.env?.SLOT_HOST).toBe('0.0.0.0');
    expect(byName['serving-worker'].expose).toEqual(['8090']);
    expect(byName['data-publisher'].expose).toEqual(['8091']);
    expect(byName['online-evaluator'].expose).toEqual(['8092']);
    for (const [target, kind] of [
      ['training-worker', 'temporal'],
      ['serving-worker', 'model-server'],
      ['data-publisher', 'data-publisher'],
      ['online-evaluator', 'online-evaluator'],
      ['slot', 'slot'],
    ]) {
      expect(byName[target].healthcheck, target).toEqual(['CMD', 'node', '/app/deploy/docker/healthcheck.mjs', kind]);
    }
    // non-root, numeric (Kubernetes' runAsNonRoot can verify it)
    const runtime = byName.runtime;
    const user = (runtime.user ?? '').replace(/\$\{(\w+)\}/g, (_, a: string) => runtime.args?.[a] ?? '');
    expect(user).toMatch(/^[1-9]\d*:[1-9]\d*$/);
    expect(user).toBe('10001:10001'); // the manifests' runAsUser
    // the runtime takes only artefacts of the build stages (libtensorflow and
    // production node_modules; dist/); no compiler, pip or dev dependency in it
    expect(runtime.copyFrom).toEqual(['build', 'build', 'compile']);
    expect(runtime.instructions).not.toContain('RUN apt-get');
    // libtensorflow from the project's own route (PyPI wheel), with scripts still off
    const text = fs.readFileSync(DOCKERFILE, 'utf8');
    expect(text).toMatch(/bash deploy\/local\/tfjs-native\.sh/);
    expect(text).toMatch(/npm ci --omit=dev/);
    expect(text).toMatch(/^RUN npm run build$/m); // the compile stage: tsc + the prebuilt workflow bundle
    expect(text).not.toMatch(/^# syntax=/m); // a frontend image is a Docker Hub pull
    expect(text).not.toMatch(/ignore-scripts=false/);
  });

  it('the check fails on a Dockerfile with problems', () => {
    const dir = scratchDir('dockerfile-broken');
    try {
      const file = path.join(dir, 'Dockerfile');
      fs.writeFileSync(file, 'FROM node:20 as build\nENV A 1\nCMD node x.js\n');
      const bad = check(file);
      expect(bad.status).toBe(1);
      expect(bad.stderr).toMatch(/FromAsCasing/);
      expect(bad.stderr).toMatch(/LegacyKeyValueFormat/);
      expect(bad.stderr).toMatch(/JSONArgsRecommended/);
      fs.writeFileSync(file, 'FROM node:20\nCOPY --from=missing /a /b\nRUN echo $UNDEFINED_THING\nWORKDIR app\n');
      const worse = check(file);
      expect(worse.status).toBe(1);
      expect(worse.stderr).toMatch(/WorkdirRelativePath|UndefinedVar|missing/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the build context filter admits what the image copies and nothing else', () => {
    const ignore = fs.readFileSync(path.join(DEPLOY, 'docker/Dockerfile.dockerignore'), 'utf8');
    const rules = ignore.split('\n').filter((l) => l.trim() && !l.startsWith('#'));
    expect(rules[0]).toBe('*');
    const admitted = rules.filter((r) => r.startsWith('!')).map((r) => r.slice(1));
    const copied = [...fs.readFileSync(DOCKERFILE, 'utf8').matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) =>
      m[1].split(/\s+/).filter((a) => !a.startsWith('--')),
    );
    expect(copied.length).toBeGreaterThan(5);
    for (const c of copied) expect(admitted, c).toContain(c);
    for (const a of admitted) expect(fs.existsSync(path.join(REPO, a)), a).toBe(true);
  });
});

describe('healthcheck.mjs (the images’ HEALTHCHECK and the Kubernetes exec probes)', () => {
  let server: http.Server;
  let port = 0;
  let status = 200;
  let closedPort = 0;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      res.writeHead(req.url === '/healthz' ? status : 404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: status === 200 ? 'ok' : 'failing' }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as net.AddressInfo).port;
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    closedPort = (probe.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  // async: the test server answers on this process's event loop
  function healthcheck(args: string[], env: Record<string, string>): Promise<{ status: number; out: string }> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [HEALTHCHECK, ...args], {
        env: { PATH: process.env.PATH ?? '', HEALTHCHECK_TIMEOUT_MS: '2000', ...env },
      });
      let out = '';
      child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
      child.on('close', (code) => resolve({ status: code ?? -1, out }));
    });
  }

  it('slot: healthy on 200 from /healthz at the slot port from SLOT_NAMES/SLOT_PORTS, unhealthy otherwise', async () => {
    status = 200;
    const env = {
      HEALTHCHECK_SLOT: 'recommender1',
      SLOT_NAMES: 'recommender,recommender1',
      SLOT_PORTS: `${closedPort},${port}`,
      SLOT_HOST: '0.0.0.0',
    };
    const ok = await healthcheck(['slot'], env);
    expect(ok, ok.out).toMatchObject({ status: 0 });
    expect(ok.out).toContain(`http://127.0.0.1:${port}/healthz`);
    const other = await healthcheck(['slot'], { ...env, HEALTHCHECK_SLOT: 'recommender' });
    expect(other.status).toBe(1); // that slot's port has nobody listening
    expect(other.out).toMatch(/ECONNREFUSED/);
    const unknown = await healthcheck(['slot'], { ...env, HEALTHCHECK_SLOT: 'nope' });
    expect(unknown.status).toBe(1);
  });

  it('model-server: 200 healthy, 503 (consumer dead) unhealthy', async () => {
    status = 200;
    expect((await healthcheck(['model-server'], { HEALTHCHECK_PORT: String(port) })).status).toBe(0);
    status = 503;
    const failing = await healthcheck(['model-server'], { HEALTHCHECK_PORT: String(port) });
    expect(failing.status).toBe(1);
    expect(failing.out).toMatch(/HTTP 503/);
    status = 200;
  });

  it('data-publisher: /healthz on DATA_PUBLISHER_PORT, 200 healthy, 503 (consumer dead or a partition stalled) unhealthy', async () => {
    status = 200;
    const ok = await healthcheck(['data-publisher'], { DATA_PUBLISHER_PORT: String(port) });
    expect(ok, ok.out).toMatchObject({ status: 0 });
    expect(ok.out).toContain(`http://127.0.0.1:${port}/healthz`);
    status = 503;
    const failing = await healthcheck(['data-publisher'], { DATA_PUBLISHER_PORT: String(port) });
    expect(failing.status).toBe(1);
    expect(failing.out).toMatch(/HTTP 503/);
    status = 200;
    expect((await healthcheck(['data-publisher'], { DATA_PUBLISHER_PORT: String(closedPort) })).status).toBe(1);
  });

  it('online-evaluator: /healthz on EVALUATOR_PORT, 200 healthy, 503 (consumer dead or a partition stalled) unhealthy', async () => {
    status = 200;
    const ok = await healthcheck(['online-evaluator'], { EVALUATOR_PORT: String(port) });
    expect(ok, ok.out).toMatchObject({ status: 0 });
    expect(ok.out).toContain(`http://127.0.0.1:${port}/healthz`);
    status = 503;
    const failing = await healthcheck(['online-evaluator'], { EVALUATOR_PORT: String(port) });
    expect(failing.status).toBe(1);
    expect(failing.out).toMatch(/HTTP 503/);
    status = 200;
    expect((await healthcheck(['online-evaluator'], { EVALUATOR_PORT: String(closedPort) })).status).toBe(1);
  });

  it('temporal: a TCP connection to TEMPORAL_ADDRESS', async () => {
    expect((await healthcheck(['temporal'], { TEMPORAL_ADDRESS: `127.0.0.1:${port}` })).status).toBe(0);
    const down = await healthcheck(['temporal'], { TEMPORAL_ADDRESS: `127.0.0.1:${closedPort}` });
    expect(down.status).toBe(1);
    expect(spawnSync(process.execPath, [HEALTHCHECK, 'bogus']).status).toBe(2);
  });
});
