/**
 * Every long-running process of the local stack (deploy/local/components/
 * workers.sh, `stack:start -- workers`) is deployed everywhere else too: a
 * Dockerfile target whose entrypoint is the same entry's build output, a
 * Compose service built from that target, and a Kubernetes Deployment of
 * that image. The online evaluator once ran locally only (issue 23).
 */
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEPLOY, k8sValidate, kustomizeBuild, run, validators, type K8sObject } from './tools';

type Stage = { name: string; entrypoint?: string[] };
type Service = { image?: string; build?: { target?: string } };
type Deployment = K8sObject & { spec: { template: { spec: { containers: { image: string }[] } } } };

/** The workers of workers.sh and their entry points (`src/….ts`). */
function localWorkers(): Map<string, string> {
  const script = fs.readFileSync(path.join(DEPLOY, 'local/components/workers.sh'), 'utf8');
  const names = /^WORKERS=\(([^)]*)\)$/m.exec(script)![1].trim().split(/\s+/);
  return new Map(names.map((n) => [n, new RegExp(`^\\s+${n}\\) echo "(src/[^" ]+\\.ts)`, 'm').exec(script)?.[1] ?? '']));
}

let stages: Stage[];
let services: Record<string, Service>;
let deployments: Deployment[];

beforeAll(() => {
  const v = validators();
  const docker = run(v.dockerfileCheck, [path.join(DEPLOY, 'docker/Dockerfile')]);
  if (docker.status !== 0) throw new Error(`dockerfile-check: ${docker.stderr}`);
  stages = (JSON.parse(docker.stdout) as { stages: Stage[] }).stages;
  // every required credential of the Compose file, set to a placeholder
  const composeFile = path.join(DEPLOY, 'compose/compose.yaml');
  const required = new Set([...fs.readFileSync(composeFile, 'utf8').matchAll(/\$\{(\w+):\?/g)].map((m) => m[1]));
  const compose = run(v.composeCheck, [...[...required].flatMap((k) => ['-env', `${k}=x`]), composeFile]);
  if (compose.status !== 0) throw new Error(`compose-check: ${compose.stderr}`);
  services = (JSON.parse(compose.stdout) as { services: Record<string, Service> }).services;
  deployments = k8sValidate(kustomizeBuild(path.join(DEPLOY, 'k8s/base')), '1.34.0').documents.filter(
    (o) => o.kind === 'Deployment',
  ) as Deployment[];
}, 15 * 60_000);

describe('the long-running processes are deployed like each other', () => {
  it('workers.sh names the training and serving workers, the data publisher and the online evaluator', () => {
    expect(Object.fromEntries(localWorkers())).toEqual({
      'training-worker': 'src/worker.ts',
      'serving-worker': 'src/serving/worker.ts',
      'data-publisher': 'src/ingest/main.ts',
      'online-evaluator': 'src/evaluation/main.ts',
    });
  });

  for (const [name, entry] of localWorkers()) {
    it(`${name}: a Dockerfile target running ${entry}'s build, a Compose service and a Kubernetes Deployment of that image`, () => {
      expect(fs.existsSync(path.join(DEPLOY, '..', entry)), entry).toBe(true);
      const stage = stages.find((s) => s.name === name);
      expect(stage?.entrypoint, `Dockerfile target ${name}`).toEqual(['node', entry.replace(/^src\//, 'dist/').replace(/\.ts$/, '.js')]);
      expect(services[name]?.build?.target, `Compose service ${name}`).toBe(name);
      expect(services[name]?.image).toMatch(new RegExp(`^recommender-${name}:`));
      const d = deployments.find((x) => x.metadata.name === name);
      expect(d?.spec.template.spec.containers[0].image, `Deployment ${name}`).toBe(`recommender-${name}:0.1.0`);
    });
  }
});
