/**
 * The offline validators of deploy/, installed into the stack cache by
 * deploy/validate/install.sh (idempotent: well under a second once built),
 * and thin wrappers that run them. Nothing here talks to a cluster, a Docker
 * engine or the network.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const REPO = path.resolve(__dirname, '../..');
export const DEPLOY = path.join(REPO, 'deploy');

export interface ValidatorPaths {
  kustomize: string;
  composeCheck: string;
  dockerfileCheck: string;
  /** the MinIO client, for deploy/k8s/infra/minio/setup.sh against the local MinIO */
  mc: string;
  pythonPath: string;
  k8sValidate: string;
}

let installed: ValidatorPaths | undefined;

/** Runs deploy/validate/install.sh once per test process (first run builds: a minute or two). */
export function validators(): ValidatorPaths {
  if (installed) return installed;
  const r = spawnSync('bash', [path.join(DEPLOY, 'validate/install.sh')], {
    cwd: REPO,
    encoding: 'utf8',
    timeout: 15 * 60_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  if (r.status !== 0) {
    throw new Error(`deploy/validate/install.sh failed (exit ${r.status ?? r.signal}):\n${r.stderr}\n${r.stdout}`);
  }
  const last = r.stdout.trim().split('\n').pop() ?? '';
  installed = JSON.parse(last) as ValidatorPaths;
  return installed;
}

export interface RunResult {
  status: number;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: string[], options: { input?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {}): RunResult {
  const r = spawnSync(cmd, args, {
    cwd: options.cwd ?? REPO,
    input: options.input,
    env: options.env ?? process.env,
    encoding: 'utf8',
    timeout: 120_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) throw r.error;
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** `kustomize build DIR`; throws with kustomize's message on failure. */
export function kustomizeBuild(dir: string): string {
  const r = run(validators().kustomize, ['build', dir]);
  if (r.status !== 0) throw new Error(`kustomize build ${dir} failed: ${r.stderr}`);
  return r.stdout;
}

export type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: unknown;
  data?: Record<string, string>;
  [key: string]: unknown;
};

export interface ValidationReport {
  kubernetesVersion: string;
  schemas: string;
  package: string;
  ok: boolean;
  objects: { kind: string; apiVersion: string; name: string; status: 'valid' | 'invalid' | 'custom'; errors: string[] }[];
  documents: K8sObject[];
}

export const STRIMZI_GROUP = 'kafka.strimzi.io';

/** Validates a multi-document YAML against the Kubernetes schemas shipped in kubernetes-validate. */
export function k8sValidate(yamlText: string, kubernetesVersion: string, crdGroups: string[] = [STRIMZI_GROUP]): ValidationReport {
  const v = validators();
  const args = [v.k8sValidate, '--kubernetes-version', kubernetesVersion, '--emit-documents'];
  for (const g of crdGroups) args.push('--crd-group', g);
  args.push('-');
  const r = run('python3', args, { input: yamlText, env: { ...process.env, PYTHONPATH: v.pythonPath } });
  if (r.status !== 0 && r.status !== 1) throw new Error(`k8s-validate crashed (exit ${r.status}): ${r.stderr}`);
  const report = JSON.parse(r.stdout) as ValidationReport;
  if ((r.status === 0) !== report.ok) throw new Error(`k8s-validate: exit ${r.status} disagrees with ok=${report.ok}`);
  return report;
}

/** YAML (one or more documents) to JSON with PyYAML from the validators' install. */
export function yamlDocuments<T = unknown>(file: string): T[] {
  const r = run('python3', ['-c', 'import json, sys, yaml; json.dump(list(yaml.safe_load_all(open(sys.argv[1]))), sys.stdout)', file], {
    env: { ...process.env, PYTHONPATH: validators().pythonPath },
  });
  if (r.status !== 0) throw new Error(`${file} is not valid YAML: ${r.stderr}`);
  return JSON.parse(r.stdout) as T[];
}

/** A scratch directory removed by the caller. */
export function scratchDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
}

/** The environment variable names src/config.ts reads (its zod schema's keys). */
export function configVariables(): Set<string> {
  const source = fs.readFileSync(path.join(REPO, 'src/config.ts'), 'utf8');
  const body = source.slice(
    source.indexOf('const schema = z.object({'),
    source.indexOf('});', source.indexOf('const schema = z.object({')),
  );
  return new Set([...body.matchAll(/^\s{2}([A-Z][A-Z0-9_]+):/gm)].map((m) => m[1]));
}

export function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { cwd: REPO, encoding: 'utf8' });
}
