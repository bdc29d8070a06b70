/**
 * deploy/k8s: every kustomization renders (kustomize, built from the Go
 * module proxy) and every object validates against the Kubernetes API
 * schemas shipped inside PyPI's kubernetes-validate (strict: unknown fields
 * are errors), for the oldest and a current Kubernetes minor we support.
 * Strimzi's custom resources have no schema there: their metadata is
 * validated against ObjectMeta and their spec structurally below.
 */
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config';
import {
  DEPLOY,
  configVariables,
  k8sValidate,
  kustomizeBuild,
  scratchDir,
  validators,
  yamlDocuments,
  type K8sObject,
  type ValidationReport,
} from './tools';

const KUBERNETES_VERSIONS = ['1.30.0', '1.34.0'];
const K8S = path.join(DEPLOY, 'k8s');
const KUSTOMIZATIONS = ['base', 'overlays/demo', 'overlays/production', 'infra/kafka', 'infra/minio'];
const SEARCH_ATTRIBUTES = {
  RecommenderModelVersion: 'Int',
  RecommenderSlot: 'Keyword',
  RecommenderHitRate10: 'Double',
  RecommenderOutcome: 'Keyword',
};

type Container = {
  name: string;
  image: string;
  args?: string[];
  command?: string[];
  env?: { name: string; value?: string; valueFrom?: Record<string, { name?: string; key?: string; resource?: string }> }[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  ports?: { name?: string; containerPort: number }[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  startupProbe?: Probe;
  securityContext?: {
    runAsNonRoot?: boolean;
    readOnlyRootFilesystem?: boolean;
    allowPrivilegeEscalation?: boolean;
    capabilities?: { drop?: string[] };
  };
};
type Probe = { httpGet?: { path: string; port: string | number }; exec?: { command: string[] }; tcpSocket?: unknown };
type PodSpec = { containers: Container[]; initContainers?: Container[]; securityContext?: { runAsNonRoot?: boolean; runAsUser?: number } };
type Workload = K8sObject & {
  spec: {
    replicas?: number;
    selector: { matchLabels: Record<string, string> };
    template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
  };
};

/** Each container's credentials, `Secret/key` per variable (docs/deploying.md, "Identities and rights"). */
const minio = (id: string) => ({ MINIO_ACCESS_KEY: `minio-${id}/MINIO_ACCESS_KEY`, MINIO_SECRET_KEY: `minio-${id}/MINIO_SECRET_KEY` });
const CREDENTIALS: Record<string, Record<string, string>> = {
  'training-worker/worker': { ...minio('training-worker'), KAFKA_SASL_PASSWORD: 'training-worker/password' },
  'serving-worker/serving-worker': { ...minio('serving-worker'), KAFKA_SASL_PASSWORD: 'serving-worker/password' },
  'data-publisher/data-publisher': { ...minio('data-publisher'), KAFKA_SASL_PASSWORD: 'data-publisher/password' },
  'online-evaluator/online-evaluator': { ...minio('online-evaluator'), KAFKA_SASL_PASSWORD: 'online-evaluator/password' },
  'slots/recommender': minio('slots'),
  'slots/recommender1': minio('slots'),
  'recommender-setup/schedule': {},
};

const rendered = new Map<string, string>();
const reports = new Map<string, ValidationReport>();

function docs(kustomization: string): K8sObject[] {
  return reports.get(`${kustomization}@${KUBERNETES_VERSIONS[1]}`)!.documents;
}
function find<T extends K8sObject>(objects: K8sObject[], kind: string, name: string): T {
  const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
  if (!o) throw new Error(`no ${kind} ${name} among ${objects.map((x) => `${x.kind}/${x.metadata.name}`).join(', ')}`);
  return o as T;
}
function matches(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/** Strimzi resources, checked for the fields the system relies on (no CRD schema offline). */
export function strimziProblems(objects: K8sObject[], topicNames: string[]): string[] {
  const problems: string[] = [];
  const kafkas = objects.filter((o) => o.kind === 'Kafka');
  const pools = objects.filter((o) => o.kind === 'KafkaNodePool');
  const topics = objects.filter((o) => o.kind === 'KafkaTopic');
  for (const o of objects.filter((x) => x.apiVersion.startsWith('kafka.strimzi.io/'))) {
    if (o.apiVersion !== 'kafka.strimzi.io/v1beta2') problems.push(`${o.kind}/${o.metadata.name}: apiVersion ${o.apiVersion}`);
    if (!['Kafka', 'KafkaNodePool', 'KafkaTopic', 'KafkaUser'].includes(o.kind)) problems.push(`unexpected Strimzi kind ${o.kind}`);
  }
  if (kafkas.length !== 1) return [...problems, `expected one Kafka, found ${kafkas.length}`];
  const kafka = kafkas[0] as K8sObject & {
    spec: {
      kafka: {
        version: string;
        metadataVersion?: string;
        listeners: { name: string; port: number; type: string; tls: boolean; authentication?: { type: string } }[];
        authorization?: { type: string };
        config: Record<string, unknown>;
      };
      zookeeper?: unknown;
      entityOperator?: { topicOperator?: unknown; userOperator?: unknown };
    };
  };
  const cluster = kafka.metadata.name;
  const ann = kafka.metadata.annotations ?? {};
  if (ann['strimzi.io/kraft'] !== 'enabled' || ann['strimzi.io/node-pools'] !== 'enabled')
    problems.push('Kafka: KRaft/node-pool annotations missing (required up to Strimzi 0.47)');
  if (kafka.spec.zookeeper !== undefined) problems.push('Kafka: has a zookeeper section (KRaft only)');
  if (!/^\d+\.\d+\.\d+$/.test(kafka.spec.kafka.version)) problems.push(`Kafka: version ${kafka.spec.kafka.version} not pinned`);
  const plain = kafka.spec.kafka.listeners.find((l) => l.type === 'internal' && !l.tls);
  if (!plain) problems.push('Kafka: no internal plain listener');
  if (kafka.spec.entityOperator?.topicOperator === undefined) problems.push('Kafka: no topic operator for the KafkaTopics');
  // least privilege: every listener authenticates, the brokers authorise, the User Operator makes the KafkaUsers
  for (const l of kafka.spec.kafka.listeners)
    if (!['scram-sha-512', 'tls'].includes(l.authentication?.type ?? '')) problems.push(`Kafka: listener ${l.name} without authentication`);
  if (kafka.spec.kafka.authorization?.type !== 'simple') problems.push('Kafka: no ACL authorization (authorization.type simple)');
  if (kafka.spec.entityOperator?.userOperator === undefined) problems.push('Kafka: no user operator for the KafkaUsers');
  for (const u of objects.filter((o) => o.kind === 'KafkaUser'))
    if (u.metadata.labels?.['strimzi.io/cluster'] !== cluster)
      problems.push(`KafkaUser/${u.metadata.name}: not labelled strimzi.io/cluster=${cluster}`);
  if (pools.length === 0) problems.push('no KafkaNodePool');
  let brokers = 0;
  for (const p of pools as (K8sObject & {
    spec: { replicas: number; roles: string[]; storage: { type: string; volumes?: { kraftMetadata?: string }[] } };
  })[]) {
    if (p.metadata.labels?.['strimzi.io/cluster'] !== cluster)
      problems.push(`KafkaNodePool/${p.metadata.name}: not labelled strimzi.io/cluster=${cluster}`);
    if (!Number.isInteger(p.spec.replicas) || p.spec.replicas < 1) problems.push(`KafkaNodePool/${p.metadata.name}: replicas`);
    if (!p.spec.roles.every((r) => ['broker', 'controller'].includes(r)))
      problems.push(`KafkaNodePool/${p.metadata.name}: roles ${p.spec.roles.join(',')}`);
    if (p.spec.roles.includes('broker')) brokers += p.spec.replicas;
  }
  if (!pools.some((p) => (p.spec as { roles: string[] }).roles.includes('controller'))) problems.push('no KRaft controller node pool');
  const rf = Number(kafka.spec.kafka.config['default.replication.factor'] ?? 1);
  const minIsr = Number(kafka.spec.kafka.config['min.insync.replicas'] ?? 1);
  if (rf > brokers || minIsr > rf) problems.push(`Kafka: replication ${rf} / min.insync ${minIsr} with ${brokers} brokers`);
  const seen = new Set<string>();
  for (const t of topics as (K8sObject & {
    spec: { topicName?: string; partitions: number; replicas: number; config?: Record<string, unknown> };
  })[]) {
    const name = t.spec.topicName ?? t.metadata.name;
    seen.add(name);
    if (t.metadata.labels?.['strimzi.io/cluster'] !== cluster)
      problems.push(`KafkaTopic/${name}: not labelled strimzi.io/cluster=${cluster}`);
    if (!Number.isInteger(t.spec.partitions) || t.spec.partitions < 1) problems.push(`KafkaTopic/${name}: partitions ${t.spec.partitions}`);
    if (!Number.isInteger(t.spec.replicas) || t.spec.replicas < 1 || t.spec.replicas > brokers)
      problems.push(`KafkaTopic/${name}: replicas ${t.spec.replicas} with ${brokers} brokers`);
    if (t.spec.replicas < minIsr) problems.push(`KafkaTopic/${name}: replicas ${t.spec.replicas} < min.insync.replicas ${minIsr}`);
  }
  for (const n of topicNames) if (!seen.has(n)) problems.push(`no KafkaTopic for ${n}`);
  return problems;
}

beforeAll(() => {
  validators();
  for (const k of KUSTOMIZATIONS) {
    const yaml = kustomizeBuild(path.join(K8S, k));
    rendered.set(k, yaml);
    for (const v of KUBERNETES_VERSIONS) reports.set(`${k}@${v}`, k8sValidate(yaml, v));
  }
}, 20 * 60_000);

describe('Kubernetes manifests: render and schema validation', () => {
  for (const k of KUSTOMIZATIONS) {
    for (const v of KUBERNETES_VERSIONS) {
      it(`${k} validates against the Kubernetes ${v} API schemas`, () => {
        const report = reports.get(`${k}@${v}`)!;
        const invalid = report.objects.filter((o) => o.status === 'invalid');
        expect(invalid, JSON.stringify(invalid, null, 2)).toEqual([]);
        expect(report.ok).toBe(true);
        expect(report.objects.length).toBeGreaterThan(0);
        // only Strimzi's custom resources are exempt from the core schemas
        const custom = report.objects.filter((o) => o.status === 'custom');
        expect(custom.every((o) => o.apiVersion.startsWith('kafka.strimzi.io/'))).toBe(true);
        expect(report.objects.filter((o) => o.status === 'valid').length + custom.length).toBe(report.objects.length);
      });
    }
  }

  it('the validator rejects broken objects: wrong types, unknown fields, unknown kinds', () => {
    const yaml = [
      'apiVersion: apps/v1',
      'kind: Deployment',
      'metadata: {name: broken}',
      'spec:',
      '  replicas: two',
      '  selector: {matchLabels: {a: b}}',
      '  template:',
      '    metadata: {labels: {a: b}}',
      '    spec:',
      '      containers: [{name: c, image: i, readinessProbe: {httpGet: {path: /healthz}}, resourcez: {}}]',
      '---',
      'apiVersion: autoscaling/v2',
      'kind: HorizontalPodAutoscalr',
      'metadata: {name: typo}',
      'spec: {}',
      '---',
      'apiVersion: policy/v1beta1',
      'kind: PodDisruptionBudget',
      'metadata: {name: removed-api}',
      'spec: {minAvailable: 1}',
    ].join('\n');
    const report = k8sValidate(yaml, KUBERNETES_VERSIONS[1]);
    expect(report.ok).toBe(false);
    const byName = Object.fromEntries(report.objects.map((o) => [o.name, o]));
    expect(byName.broken.status).toBe('invalid');
    expect(byName.broken.errors.join('\n')).toMatch(/spec\.replicas: 'two' is not of type/);
    expect(byName.broken.errors.join('\n')).toMatch(/resourcez/);
    expect(byName.broken.errors.join('\n')).toMatch(/port/); // httpGet without its required port
    expect(byName.typo.errors.join('\n')).toMatch(/no schema/);
    expect(byName['removed-api'].errors.join('\n')).toMatch(/no schema/);
    // a Strimzi resource is an error unless declared as a custom resource group
    const strimzi = 'apiVersion: kafka.strimzi.io/v1beta2\nkind: KafkaTopic\nmetadata: {name: t}\nspec: {partitions: 1}\n';
    expect(k8sValidate(strimzi, KUBERNETES_VERSIONS[1], []).ok).toBe(false);
    expect(k8sValidate(strimzi, KUBERNETES_VERSIONS[1]).ok).toBe(true);
    const badMeta = 'apiVersion: kafka.strimzi.io/v1beta2\nkind: KafkaTopic\nmetadata: {name: t, labels: [x]}\nspec: {}\n';
    expect(k8sValidate(badMeta, KUBERNETES_VERSIONS[1]).objects[0].status).toBe('invalid');
  });

  it('kustomize rejects a kustomization with a missing resource', () => {
    const dir = scratchDir('kustomize-broken');
    try {
      fs.writeFileSync(path.join(dir, 'kustomization.yaml'), 'resources:\n  - missing.yaml\n');
      expect(() => kustomizeBuild(dir)).toThrow(/missing\.yaml/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('Kubernetes manifests: what the system needs', () => {
  it('the workloads: probes, requests and limits, non-root, read-only root file system', () => {
    for (const k of ['base', 'overlays/demo', 'overlays/production']) {
      const objects = docs(k);
      const deployments = objects.filter((o) => o.kind === 'Deployment') as Workload[];
      expect(deployments.map((d) => d.metadata.name).sort()).toEqual([
        'data-publisher',
        'online-evaluator',
        'serving-worker',
        'slots',
        'training-worker',
      ]);
      for (const d of deployments) {
        const pod = d.spec.template.spec;
        expect(pod.securityContext?.runAsNonRoot, d.metadata.name).toBe(true);
        expect(pod.securityContext?.runAsUser).toBe(10001); // the image's USER
        for (const c of pod.containers) {
          const where = `${d.metadata.name}/${c.name}`;
          expect(c.readinessProbe, `${where} readiness`).toBeDefined();
          expect(c.livenessProbe, `${where} liveness`).toBeDefined();
          for (const r of ['cpu', 'memory']) {
            expect(c.resources?.requests?.[r], `${where} requests.${r}`).toBeDefined();
            expect(c.resources?.limits?.[r], `${where} limits.${r}`).toBeDefined();
          }
          expect(c.securityContext?.readOnlyRootFilesystem, where).toBe(true);
          expect(c.securityContext?.allowPrivilegeEscalation, where).toBe(false);
          expect(c.securityContext?.capabilities?.drop, where).toEqual(['ALL']);
          // named HTTP probe ports exist on the container
          for (const p of [c.readinessProbe, c.livenessProbe, c.startupProbe]) {
            if (p?.httpGet)
              expect(
                c.ports?.some((x) => x.name === p.httpGet!.port || x.containerPort === p.httpGet!.port),
                where,
              ).toBe(true);
            if (p?.exec) expect(p.exec.command.slice(0, 2)).toEqual(['node', '/app/deploy/docker/healthcheck.mjs']);
          }
        }
      }
    }
  });

  it('the entrypoints of the Dockerfile targets, and the slots on their own ports', () => {
    const objects = docs('base');
    const slots = find<Workload>(objects, 'Deployment', 'slots').spec.template.spec.containers;
    expect(slots.map((c) => [c.name, c.image, c.args, c.ports?.map((p) => p.containerPort)])).toEqual([
      ['recommender', 'recommender-slot:0.1.0', ['--slot', 'recommender'], [8501, 8500]],
      ['recommender1', 'recommender-slot:0.1.0', ['--slot', 'recommender1'], [8502, 8503]],
    ]);
    for (const c of slots) expect(c.env?.find((e) => e.name === 'SLOT_HOST')?.value).toBe('0.0.0.0');
    const svc = find<K8sObject & { spec: { selector: Record<string, string>; ports: { port: number; targetPort: string }[] } }>(
      objects,
      'Service',
      'recommender-slots',
    );
    expect(svc.spec.ports.map((p) => [p.port, p.targetPort])).toEqual([
      [8501, 'recommender'],
      [8500, 'recommender-g'],
      [8502, 'recommender1'],
      [8503, 'recommender1-g'],
    ]);
    expect(matches(svc.spec.selector, find<Workload>(objects, 'Deployment', 'slots').spec.template.metadata.labels)).toBe(true);
    // readiness resolves every replica through a headless Service with the same selector and ports
    const replicas = find<K8sObject & { spec: { clusterIP?: string; selector: Record<string, string>; ports: unknown[] } }>(
      objects,
      'Service',
      'recommender-slots-replicas',
    );
    expect(replicas.spec.clusterIP).toBe('None');
    expect(replicas.spec.selector).toEqual(svc.spec.selector);
    expect(replicas.spec.ports).toEqual(svc.spec.ports);
    expect(find<Workload>(objects, 'Deployment', 'training-worker').spec.template.spec.containers[0].image).toBe(
      'recommender-training-worker:0.1.0',
    );
    expect(find<Workload>(objects, 'Deployment', 'serving-worker').spec.template.spec.containers[0].image).toBe(
      'recommender-serving-worker:0.1.0',
    );
    expect(find<Workload>(objects, 'Deployment', 'data-publisher').spec.template.spec.containers[0].image).toBe(
      'recommender-data-publisher:0.1.0',
    );
    const evaluator = find<Workload>(objects, 'Deployment', 'online-evaluator').spec.template.spec.containers[0];
    expect(evaluator.image).toBe('recommender-online-evaluator:0.1.0');
    for (const probe of [evaluator.startupProbe, evaluator.readinessProbe, evaluator.livenessProbe])
      expect(probe?.exec?.command).toEqual(['node', '/app/deploy/docker/healthcheck.mjs', 'online-evaluator']);
    // production: registry images, never :latest
    for (const d of docs('overlays/production').filter((o) => o.kind === 'Deployment') as Workload[]) {
      for (const c of d.spec.template.spec.containers)
        expect(c.image).toMatch(/^registry\.example\.internal\/recommender\/[a-z-]+:\d+\.\d+\.\d+$/);
    }
  });

  it('the training worker sizes TensorFlow threads from its CPU limit', () => {
    const c = find<Workload>(docs('base'), 'Deployment', 'training-worker').spec.template.spec.containers[0];
    const intra = c.env?.find((e) => e.name === 'TF_NUM_INTRAOP_THREADS');
    expect(intra?.valueFrom?.resourceFieldRef?.resource).toBe('limits.cpu');
    expect(c.resources?.limits?.memory).toBe(c.resources?.requests?.memory); // Guaranteed memory
  });

  it('config from the ConfigMap and credentials from the Secret parse with src/config.ts', () => {
    const known = configVariables();
    expect(known.size).toBeGreaterThan(20);
    for (const k of ['base', 'overlays/demo', 'overlays/production']) {
      const objects = docs(k);
      const cm = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('recommender-config-'));
      expect(cm, k).toBeDefined();
      const data = cm!.data!;
      const unknown = Object.keys(data).filter((v) => !known.has(v) && !v.startsWith('TF_'));
      expect(unknown, `${k}: variables src/config.ts does not read`).toEqual([]);
      // every non-credential variable is set explicitly
      const missing = [...known].filter(
        (v) =>
          !v.startsWith('MINIO_ACCESS') &&
          !v.startsWith('MINIO_SECRET') &&
          !v.startsWith('TEMPORAL_TLS_') &&
          // each workload's own Kafka identity comes from its KafkaUser's Secret (least-privilege.test.ts)
          !v.startsWith('KAFKA_SASL_') &&
          v !== 'KAFKA_SSL_CA_FILE' &&
          !(v in data),
      );
      expect(missing, k).toEqual([]);
      const cfg = loadConfig({ ...data, MINIO_ACCESS_KEY: 'k', MINIO_SECRET_KEY: 's' });
      expect(cfg.slots.map((s) => s.baseUrl)).toEqual(['http://recommender-slots:8501', 'http://recommender-slots:8502']);
      expect(cfg.slotReplicasHost).toBe('recommender-slots-replicas');
      expect(cfg.kafka.brokers).toEqual(['recommender-kafka-bootstrap:9092']);
      // workloads read the generated ConfigMap and only their own identity's Secrets
      for (const d of objects.filter((o) => o.kind === 'Deployment' || o.kind === 'Job') as Workload[]) {
        for (const c of d.spec.template.spec.containers) {
          if (c.image.startsWith('minio/')) continue;
          expect(c.envFrom?.map((e) => e.configMapRef?.name)).toContain(cm!.metadata.name);
          const secretRefs = Object.fromEntries(
            (c.env ?? [])
              .filter((e) => e.valueFrom?.secretKeyRef)
              .map((e) => {
                const ref = e.valueFrom!.secretKeyRef;
                // generated in the demo overlay: the reference follows the hashed name
                const generated = k === 'overlays/demo' && objects.some((o) => o.kind === 'Secret' && o.metadata.name === ref.name);
                return [e.name, `${generated ? ref.name!.replace(/-[a-z0-9]{10}$/, '') : ref.name}/${ref.key}`];
              }),
          );
          expect(secretRefs, `${k} ${d.metadata.name}/${c.name}`).toEqual(CREDENTIALS[`${d.metadata.name}/${c.name}`]);
        }
      }
      expect(objects.some((o) => o.kind === 'Secret') && k !== 'overlays/demo', `${k} must not carry credentials`).toBe(false);
      if (k === 'overlays/demo') {
        for (const secret of objects.filter(
          (o) => o.kind === 'Secret' && o.metadata.name.startsWith('minio-') && !o.metadata.name.startsWith('minio-root'),
        )) {
          expect(Object.keys(secret.data ?? {}).sort()).toEqual(['MINIO_ACCESS_KEY', 'MINIO_SECRET_KEY']);
        }
      }
    }
  });

  it('autoscaling and disruption budgets cover the workloads', () => {
    const objects = docs('base');
    const deployments = objects.filter((o) => o.kind === 'Deployment') as Workload[];
    const hpas = objects.filter((o) => o.kind === 'HorizontalPodAutoscaler') as (K8sObject & {
      spec: { scaleTargetRef: { kind: string; name: string }; minReplicas: number; maxReplicas: number };
    })[];
    expect(hpas.map((h) => h.spec.scaleTargetRef.name).sort()).toEqual(['serving-worker', 'slots']);
    for (const h of hpas) {
      expect(deployments.some((d) => d.metadata.name === h.spec.scaleTargetRef.name && h.spec.scaleTargetRef.kind === 'Deployment')).toBe(
        true,
      );
      expect(h.spec.minReplicas).toBeGreaterThanOrEqual(2);
      expect(h.spec.maxReplicas).toBeGreaterThan(h.spec.minReplicas);
    }
    const pdbs = objects.filter((o) => o.kind === 'PodDisruptionBudget') as (K8sObject & {
      spec: { selector: { matchLabels: Record<string, string> } };
    })[];
    for (const d of deployments) {
      const covering = pdbs.filter((p) => matches(p.spec.selector.matchLabels, d.spec.template.metadata.labels));
      expect(covering.length, `PDB for ${d.metadata.name}`).toBe(1);
    }
    // the model server scales to at most one consumer per mdata partition
    const mdata = docs('infra/kafka').find((o) => o.kind === 'KafkaTopic' && o.metadata.name === 'mdata') as K8sObject & {
      spec: { partitions: number };
    };
    const serving = hpas.find((h) => h.spec.scaleTargetRef.name === 'serving-worker')!;
    expect(serving.spec.maxReplicas).toBeLessThanOrEqual(mdata.spec.partitions);
    // the online evaluator owns whole co-partitioned partitions: more replicas than partitions idle
    const data = objects.find((o) => o.kind === 'ConfigMap')!.data!;
    for (const k of ['base', 'overlays/demo', 'overlays/production']) {
      const topics = docs(k === 'base' ? 'infra/kafka' : k).filter((o) => o.kind === 'KafkaTopic') as (K8sObject & {
        spec: { topicName: string; partitions: number };
      })[];
      const evaluated = topics.filter((t) => [data.TOPIC_RESULTS, data.TOPIC_SHADOWS, data.TOPIC_PURCHASES].includes(t.spec.topicName));
      expect(evaluated, k).toHaveLength(3);
      const replicas = find<Workload>(docs(k), 'Deployment', 'online-evaluator').spec.replicas ?? 1;
      expect(replicas, k).toBeGreaterThanOrEqual(1);
      expect(replicas, k).toBeLessThanOrEqual(Math.min(...evaluated.map((t) => t.spec.partitions)));
    }
  });

  it('a Job registers the search attributes and creates the Temporal Schedule', () => {
    const job = find<Workload>(docs('base'), 'Job', 'recommender-setup');
    const init = job.spec.template.spec.initContainers ?? [];
    expect(init[0].image).toMatch(/^temporalio\/admin-tools:\d+\.\d+\.\d+/);
    const script = (init[0].args ?? []).join('\n');
    for (const [name, type] of Object.entries(SEARCH_ATTRIBUTES)) expect(script).toContain(`${name}:${type}`);
    expect(script).toContain('temporal operator search-attribute create');
    const main = job.spec.template.spec.containers[0];
    expect(main.image).toBe('recommender-training-worker:0.1.0');
    expect((main.args ?? []).join('\n')).toMatch(/node dist\/cli\/main\.js schedule create/);
    // the same attributes as the Compose set-up and the local stack
    const composeScript = fs.readFileSync(path.join(DEPLOY, 'compose/init/temporal-search-attributes.sh'), 'utf8');
    const localStack = fs.readFileSync(path.join(DEPLOY, 'local/components/temporal.sh'), 'utf8');
    for (const [name, type] of Object.entries(SEARCH_ATTRIBUTES)) {
      expect(composeScript).toContain(`${name}:${type}`);
      expect(localStack).toContain(`${name}=${type}`);
    }
  });

  it('Strimzi resources: KRaft Kafka, node pools, the four topics, authenticated listeners with ACLs (structural check)', () => {
    const data = docs('base').find((o) => o.kind === 'ConfigMap')!.data!;
    const topics = [data.TOPIC_REQUESTS, data.TOPIC_MODELS, data.TOPIC_RESULTS, data.TOPIC_DLQ];
    expect(topics).toEqual(['mdata', 'models', 'recommendations', 'mdata-dlq']);
    for (const k of ['infra/kafka', 'overlays/demo', 'overlays/production']) {
      expect(strimziProblems(docs(k), topics), k).toEqual([]);
      // co-partitioned by customer id (docs/design.md, "Quality out"): one partition count for the evaluator's three inputs
      const partitions = docs(k)
        .filter((o) => o.kind === 'KafkaTopic')
        .map((o) => o as K8sObject & { spec: { topicName: string; partitions: number } })
        .filter((t) => [data.TOPIC_RESULTS, data.TOPIC_SHADOWS, data.TOPIC_PURCHASES].includes(t.spec.topicName))
        .map((t) => t.spec.partitions);
      expect(partitions, k).toHaveLength(3);
      expect(new Set(partitions).size, k).toBe(1);
    }
    const kafkaObjects = docs('infra/kafka');
    const kafka = find<K8sObject & { spec: { kafka: { listeners: { port: number; tls: boolean }[] } } }>(
      kafkaObjects,
      'Kafka',
      'recommender',
    );
    // KAFKA_BROKERS names the bootstrap Service Strimzi creates for this cluster and listener
    expect(data.KAFKA_BROKERS).toBe(`${kafka.metadata.name}-kafka-bootstrap:${kafka.spec.kafka.listeners.find((l) => !l.tls)!.port}`);
    const models = find<K8sObject & { spec: { partitions: number; config: Record<string, unknown> } }>(
      kafkaObjects,
      'KafkaTopic',
      'models',
    );
    expect(models.spec.partitions).toBe(1);
    expect(models.spec.config['retention.ms']).toBe(-1);
    // and the structural check fails when it should
    const broken = JSON.parse(JSON.stringify(kafkaObjects)) as K8sObject[];
    const topic = broken.find((o) => o.kind === 'KafkaTopic' && o.metadata.name === 'recommendations')!;
    delete topic.metadata.labels!['strimzi.io/cluster'];
    (topic.spec as { replicas: number }).replicas = 5;
    // an unauthenticated listener and no ACLs: the state issue 24 (item 9) found
    const brokenKafka = broken.find((o) => o.kind === 'Kafka')!.spec as {
      kafka: { listeners: { authentication?: unknown }[]; authorization?: unknown };
    };
    delete brokenKafka.kafka.listeners[0].authentication;
    delete brokenKafka.kafka.authorization;
    const problems = strimziProblems(
      broken.filter((o) => o.metadata.name !== 'mdata-dlq'),
      topics,
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        'KafkaTopic/recommendations: not labelled strimzi.io/cluster=recommender',
        'KafkaTopic/recommendations: replicas 5 with 3 brokers',
        'no KafkaTopic for mdata-dlq',
        'Kafka: listener plain without authentication',
        'Kafka: no ACL authorization (authorization.type simple)',
      ]),
    );
  });

  it('Temporal Helm values: PostgreSQL persistence, the default namespace, the frontend address the workers use', () => {
    const [values] = yamlDocuments<{
      server: {
        config: {
          persistence: {
            numHistoryShards: number;
            datastores: Record<string, { sql: { pluginName: string; existingSecret: string; password?: string } }>;
          };
          namespaces: { create: boolean; namespace: { name: string }[] };
        };
      };
      web: { enabled: boolean };
    }>(path.join(K8S, 'infra/temporal/values.yaml'));
    const p = values.server.config.persistence;
    expect(p.numHistoryShards).toBeGreaterThan(0);
    expect(Object.keys(p.datastores).sort()).toEqual(['default', 'visibility']);
    for (const ds of Object.values(p.datastores)) {
      expect(ds.sql.pluginName).toBe('postgres12');
      expect(ds.sql.existingSecret).toBeTruthy();
      expect(ds.sql.password).toBeUndefined(); // no password in the values
    }
    expect(values.server.config.namespaces.create).toBe(true);
    const data = docs('base').find((o) => o.kind === 'ConfigMap')!.data!;
    expect(values.server.config.namespaces.namespace.map((n) => n.name)).toContain(data.TEMPORAL_NAMESPACE);
    // release `temporal` in namespace `temporal`: the chart's frontend Service
    expect(data.TEMPORAL_ADDRESS).toBe('temporal-frontend.temporal.svc.cluster.local:7233');
    expect(values.web.enabled).toBe(true);
  });
});
