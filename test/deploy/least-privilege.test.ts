/**
 * Issue 24, item 9: each component has its own identity and only its rights.
 * The tables of docs/deploying.md ("Identities and rights") are the
 * contract; the rendered manifests are checked against them offline:
 * KafkaUser ACLs, MinIO users and policies, no root credential in a
 * workload, and the NetworkPolicies, evaluated flow by flow.
 */
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEPLOY, REPO, k8sValidate, kustomizeBuild, type K8sObject } from './tools';

const K8S = path.join(DEPLOY, 'k8s');
const NAMESPACE = 'recommender';
const objects = new Map<string, K8sObject[]>();

beforeAll(() => {
  for (const k of ['overlays/demo', 'overlays/production', 'infra/kafka'])
    objects.set(k, k8sValidate(kustomizeBuild(path.join(K8S, k)), '1.34.0').documents);
}, 10 * 60_000);

// ---- the contract: docs/deploying.md -------------------------------------------

/** The rows of the first Markdown table whose header starts with `firstHeader`, backticks removed. */
function docsTable(firstHeader: string): string[][] {
  const lines = fs.readFileSync(path.join(REPO, 'docs/deploying.md'), 'utf8').split('\n');
  const start = lines.findIndex((l) => l.startsWith(`| ${firstHeader} |`));
  if (start < 0) throw new Error(`docs/deploying.md has no table starting with "${firstHeader}"`);
  const rows: string[][] = [];
  for (let i = start + 2; i < lines.length && lines[i].startsWith('|'); i++)
    rows.push(
      lines[i]
        .split('|')
        .slice(1, -1)
        .map((c) => c.trim().replace(/`/g, '')),
    );
  return rows;
}
const list = (cell: string): string[] => (cell === '—' ? [] : cell.split(',').map((x) => x.trim()));

// ---- Kafka -----------------------------------------------------------------------

type Acl = { resource: { type: string; name: string; patternType?: string }; operations: string[] };
type KafkaUser = K8sObject & { spec: { authentication: { type: string }; authorization: { type: string; acls: Acl[] } } };

/** `type:name[*]:Op,Op` per ACL, sorted; `*` marks a prefix pattern. */
const aclKeys = (acls: Acl[]): string[] =>
  acls
    .map(
      (a) => `${a.resource.type}:${a.resource.name}${a.resource.patternType === 'prefix' ? '*' : ''}:${[...a.operations].sort().join(',')}`,
    )
    .sort();

function expectedAcls(): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const [user, reads, writes, groups] of docsTable('KafkaUser')) {
    m.set(
      user,
      [
        ...list(reads).map((t) => `topic:${t}:Describe,Read`),
        ...list(writes).map((t) => `topic:${t}:Describe,Write`),
        ...list(groups).map((g) => `group:${g}:Read`),
      ].sort(),
    );
  }
  return m;
}

/** Differences between the KafkaUsers and the table, one line each. */
function aclProblems(users: KafkaUser[]): string[] {
  const expected = expectedAcls();
  const problems: string[] = [];
  for (const u of users) {
    const want = expected.get(u.metadata.name);
    if (!want) problems.push(`KafkaUser ${u.metadata.name} is not in the table`);
    else if (JSON.stringify(aclKeys(u.spec.authorization.acls)) !== JSON.stringify(want))
      problems.push(`KafkaUser ${u.metadata.name}: ${aclKeys(u.spec.authorization.acls).join(' ')} ≠ ${want.join(' ')}`);
    if (u.spec.authentication.type !== 'scram-sha-512')
      problems.push(`KafkaUser ${u.metadata.name}: authentication ${u.spec.authentication.type}`);
  }
  for (const name of expected.keys()) if (!users.some((u) => u.metadata.name === name)) problems.push(`no KafkaUser ${name}`);
  return problems;
}

const kafkaUsers = (k: string) => objects.get(k)!.filter((o) => o.kind === 'KafkaUser') as KafkaUser[];
const writers = (users: KafkaUser[], topic: string) =>
  users
    .filter((u) =>
      u.spec.authorization.acls.some((a) => a.resource.type === 'topic' && a.resource.name === topic && a.operations.includes('Write')),
    )
    .map((u) => u.metadata.name);

describe('Kafka: a KafkaUser per component with the ACLs of the table', () => {
  it('the KafkaUsers equal the table, in infra/kafka and both overlays', () => {
    for (const k of ['infra/kafka', 'overlays/demo', 'overlays/production']) expect(aclProblems(kafkaUsers(k)), k).toEqual([]);
    const users = kafkaUsers('infra/kafka');
    expect(writers(users, 'models')).toEqual(['training-worker']);
    expect(writers(users, 'recommendations')).toEqual(['serving-worker']);
    expect(writers(users, 'mdata-dlq')).toEqual(['serving-worker']);
    expect(writers(users, 'mdata')).toEqual(['request-client']);
    expect(writers(users, 'purchases-dlq')).toEqual(['data-publisher']);
  });

  it('the check catches an extra right and a missing user', () => {
    const users = JSON.parse(JSON.stringify(kafkaUsers('infra/kafka'))) as KafkaUser[];
    users
      .find((u) => u.metadata.name === 'serving-worker')!
      .spec.authorization.acls.push({ resource: { type: 'topic', name: 'models', patternType: 'literal' }, operations: ['Write'] });
    expect(aclProblems(users.filter((u) => u.metadata.name !== 'online-evaluator'))).toEqual([
      expect.stringMatching(/^KafkaUser serving-worker: .*topic:models:Write/),
      'no KafkaUser online-evaluator',
    ]);
  });

  it('the workloads name their KafkaUser and its Secret; the listener admits those pods', () => {
    const demo = objects.get('overlays/demo')!;
    const users = kafkaUsers('overlays/demo').map((u) => u.metadata.name);
    for (const name of ['training-worker', 'serving-worker', 'data-publisher', 'online-evaluator']) {
      const c = podSpec(find(demo, 'Deployment', name)).containers[0];
      const env = Object.fromEntries((c.env ?? []).map((e) => [e.name, e]));
      expect(env.KAFKA_SASL_MECHANISM?.value).toBe('scram-sha-512');
      expect(env.KAFKA_SASL_USERNAME?.value).toBe(name);
      expect(users).toContain(name);
      expect(env.KAFKA_SASL_PASSWORD?.valueFrom?.secretKeyRef).toEqual({ name, key: 'password' }); // the User Operator's Secret
    }
    // the slots and the set-up Job have no Kafka identity at all
    for (const [kind, name] of [
      ['Deployment', 'slots'],
      ['Job', 'recommender-setup'],
    ])
      for (const c of podSpec(find(demo, kind, name)).containers)
        expect((c.env ?? []).map((e) => e.name)).not.toContain('KAFKA_SASL_USERNAME');
  });
});

// ---- object store ---------------------------------------------------------------

type Statement = { Effect: string; Action: string[]; Resource: string[] };
const POLICIES = path.join(K8S, 'infra/minio/policies');

/**
 * A policy's rights on one bucket: 'read-write' | 'read' | 'write' on the whole
 * bucket, or per key prefix ('read-write online/*, read registry/*'), '—' for none.
 */
function bucketAccess(policy: string, bucket: string): string {
  const statements = (JSON.parse(fs.readFileSync(path.join(POLICIES, `${policy}.json`), 'utf8')) as { Statement: Statement[] }).Statement;
  const wildcard = statements.some(
    (s) => s.Action.some((a) => a.includes('*')) || s.Resource.some((r) => r === '*' || r === 'arn:aws:s3:::*'),
  );
  if (wildcard) return 'wildcard';
  const objects = `arn:aws:s3:::${bucket}/`;
  const scopes = [...new Set(statements.flatMap((s) => s.Resource).filter((r) => r.startsWith(objects)))].map((r) =>
    r.slice(objects.length),
  );
  const access = (scope: string) => {
    const on = (action: string) =>
      statements.some((s) => s.Effect === 'Allow' && s.Action.includes(action) && s.Resource.includes(`${objects}${scope}`));
    if (on('s3:PutObject') || on('s3:DeleteObject')) return on('s3:GetObject') ? 'read-write' : 'write';
    return on('s3:GetObject') ? 'read' : '—';
  };
  const parts = scopes
    .sort((a, b) => (a === '*' ? -1 : b === '*' ? 1 : a.localeCompare(b)))
    .map((scope) => (scope === '*' ? access(scope) : `${access(scope)} ${scope}`));
  return parts.length ? parts.join(', ') : '—';
}

describe('object store: a MinIO user per component with only its policy', () => {
  const table = () => docsTable('MinIO user');

  it('the policies grant exactly the table, per bucket', () => {
    for (const [user, , policy, data, models] of table()) {
      expect(bucketAccess(policy, 'DATA_BUCKET'), `${user} on data`).toBe(data);
      expect(bucketAccess(policy, 'MODELS_BUCKET'), `${user} on models`).toBe(models);
    }
    // the slots and the model server can never write a model
    for (const row of table().filter((r) => ['slots', 'serving-worker'].includes(r[0]))) expect(row[4]).toBe('read');
    // the online evaluator writes its checkpoints only, and reads the registry (the rollback policy)
    expect(
      table()
        .find((r) => r[0] === 'online-evaluator')
        ?.slice(3),
    ).toEqual(['—', 'read-write online/*, read registry/*']);
  });

  it('the set-up script creates those users with those policies from those Secrets', () => {
    const script = fs.readFileSync(path.join(K8S, 'infra/minio/setup.sh'), 'utf8');
    const identities = /^IDENTITIES=\$\{IDENTITIES:-"([^"]+)"\}$/m.exec(script)![1].split(' ');
    expect(identities.sort()).toEqual(
      table()
        .map(([user, , policy]) => `${user}:${policy}`)
        .sort(),
    );
    const demo = objects.get('overlays/demo')!;
    const job = podSpec(find(demo, 'Job', 'minio-setup')).containers[0];
    for (const [user, secret] of table()) {
      const v = user.toUpperCase().replace(/-/g, '_');
      for (const key of ['ACCESS_KEY', 'SECRET_KEY']) {
        const ref = job.env?.find((e) => e.name === `MINIO_${v}_${key}`)?.valueFrom?.secretKeyRef;
        expect(ref?.key).toBe(`MINIO_${key}`);
        expect(ref?.name?.replace(/-[a-z0-9]{10}$/, '')).toBe(secret);
      }
      // the demo's generated Secret: the user's own access key, not the root's
      const generated = demo.find((o) => o.kind === 'Secret' && o.metadata.name.replace(/-[a-z0-9]{10}$/, '') === secret)!;
      expect(Buffer.from(generated.data!.MINIO_ACCESS_KEY, 'base64').toString()).toBe(user);
    }
  });

  it('no workload but MinIO and its set-up Job references the root credential', () => {
    for (const k of ['overlays/demo', 'overlays/production']) {
      for (const w of workloads(objects.get(k)!)) {
        const spec = podSpec(w);
        const refs = [...spec.containers, ...(spec.initContainers ?? [])].flatMap((c) => [
          ...(c.envFrom ?? []).map((e) => e.secretRef?.name),
          ...(c.env ?? []).map((e) => e.valueFrom?.secretKeyRef?.name),
        ]);
        const root = refs.some((r) => r?.startsWith('minio-root'));
        expect(root, `${k} ${w.kind}/${w.metadata.name}`).toBe(['minio', 'minio-setup'].includes(w.metadata.name));
      }
    }
  });
});

// ---- network ----------------------------------------------------------------------

type Selector = { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] };
type Peer = { podSelector?: Selector; namespaceSelector?: Selector; ipBlock?: { cidr: string; except?: string[] } };
type Rule = { from?: Peer[]; to?: Peer[]; ports?: { port?: number; endPort?: number }[] };
type Policy = { namespace: string; name: string; podSelector: Selector; types: string[]; ingress: Rule[]; egress: Rule[] };
/** A pod (namespace + labels) or an address outside the cluster. */
type Endpoint = { namespace?: string; labels?: Record<string, string>; ip?: string };

function selects(sel: Selector, labels: Record<string, string>): boolean {
  return (
    Object.entries(sel.matchLabels ?? {}).every(([k, v]) => labels[k] === v) &&
    (sel.matchExpressions ?? []).every((e) => {
      if (e.operator === 'In') return e.values!.includes(labels[e.key]);
      if (e.operator === 'NotIn') return !e.values!.includes(labels[e.key]);
      if (e.operator === 'Exists') return e.key in labels;
      if (e.operator === 'DoesNotExist') return !(e.key in labels);
      throw new Error(`operator ${e.operator}`);
    })
  );
}
const ipNumber = (ip: string) => ip.split('.').reduce((n, x) => n * 256 + Number(x), 0);
function inCidr(ip: string, cidr: string): boolean {
  const [base, bits] = cidr.split('/');
  const size = 2 ** (32 - Number(bits));
  return Math.floor(ipNumber(ip) / size) === Math.floor(ipNumber(base) / size);
}
function peerMatches(peer: Peer, policyNamespace: string, ep: Endpoint): boolean {
  if (peer.ipBlock)
    return ep.ip !== undefined && inCidr(ep.ip, peer.ipBlock.cidr) && !(peer.ipBlock.except ?? []).some((c) => inCidr(ep.ip!, c));
  if (ep.ip !== undefined) return false;
  const nsOk = peer.namespaceSelector
    ? selects(peer.namespaceSelector, { 'kubernetes.io/metadata.name': ep.namespace! })
    : ep.namespace === policyNamespace;
  return nsOk && (!peer.podSelector || selects(peer.podSelector, ep.labels!));
}
/** Whether `ep`'s policies of direction `dir` let it talk to `other` on `port` (no policy selecting it: allowed). */
function allows(policies: Policy[], ep: Endpoint, dir: 'Ingress' | 'Egress', other: Endpoint, port: number): boolean {
  if (ep.ip !== undefined) return true;
  const mine = policies.filter((p) => p.namespace === ep.namespace && p.types.includes(dir) && selects(p.podSelector, ep.labels!));
  if (mine.length === 0) return true;
  return mine.some((p) =>
    (dir === 'Ingress' ? p.ingress : p.egress).some((r) => {
      const peers = dir === 'Ingress' ? r.from : r.to;
      const portOk =
        !r.ports ||
        r.ports.some((x) => x.port === undefined || x.port === port || (x.endPort !== undefined && port >= x.port && port <= x.endPort));
      return portOk && (!peers || peers.some((peer) => peerMatches(peer, p.namespace, other)));
    }),
  );
}
const flow = (policies: Policy[], from: Endpoint, to: Endpoint, port: number) =>
  allows(policies, from, 'Egress', to, port) && allows(policies, to, 'Ingress', from, port);

/** The rendered NetworkPolicies, plus the ingress policy Strimzi generates for the brokers from the listeners' networkPolicyPeers. */
function networkPolicies(rendered: K8sObject[]): Policy[] {
  const policies: Policy[] = rendered
    .filter((o) => o.kind === 'NetworkPolicy')
    .map((o) => {
      const spec = o.spec as { podSelector: Selector; policyTypes: string[]; ingress?: Rule[]; egress?: Rule[] };
      return {
        namespace: o.metadata.namespace ?? NAMESPACE,
        name: o.metadata.name,
        podSelector: spec.podSelector,
        types: spec.policyTypes,
        ingress: spec.ingress ?? [],
        egress: spec.egress ?? [],
      };
    });
  const kafka = rendered.find((o) => o.kind === 'Kafka') as
    (K8sObject & { spec: { kafka: { listeners: { port: number; networkPolicyPeers?: Peer[] }[] } } }) | undefined;
  if (kafka)
    policies.push({
      namespace: kafka.metadata.namespace ?? NAMESPACE,
      name: 'strimzi-generated',
      podSelector: { matchLabels: { 'strimzi.io/cluster': kafka.metadata.name, 'strimzi.io/kind': 'Kafka' } },
      types: ['Ingress'],
      ingress: kafka.spec.kafka.listeners.map((l) => ({ from: l.networkPolicyPeers, ports: [{ port: l.port }] })),
      egress: [],
    });
  return policies;
}

const pod = (name: string, labels: Record<string, string> = {}): Endpoint => ({
  namespace: NAMESPACE,
  labels: { 'app.kubernetes.io/name': name, 'app.kubernetes.io/part-of': 'recommender', ...labels },
});
const EP = {
  training: pod('training-worker'),
  serving: pod('serving-worker'),
  publisher: pod('data-publisher'),
  evaluator: pod('online-evaluator'),
  slots: pod('slots'),
  setup: pod('recommender-setup'),
  minio: pod('minio'),
  minioSetup: pod('minio-setup'),
  stranger: { namespace: NAMESPACE, labels: { app: 'debug-shell' } },
  kafka: {
    namespace: NAMESPACE,
    labels: { 'strimzi.io/cluster': 'recommender', 'strimzi.io/kind': 'Kafka', 'strimzi.io/name': 'recommender-kafka' },
  },
  temporal: { namespace: 'temporal', labels: { 'app.kubernetes.io/name': 'temporal', 'app.kubernetes.io/component': 'frontend' } },
  dns: { namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' } },
  s3: { ip: '192.0.2.10' },
  internet: { ip: '203.0.113.5' },
} satisfies Record<string, Endpoint>;
type Name = keyof typeof EP;

/** [from, to, port, allowed] */
const FLOWS: [Name, Name, number, boolean][] = [
  ['training', 'temporal', 7233, true],
  ['training', 'kafka', 9092, true],
  ['training', 'dns', 53, true],
  ['serving', 'temporal', 7233, true],
  ['serving', 'kafka', 9092, true],
  ['serving', 'slots', 8501, true],
  ['serving', 'slots', 8502, true],
  ['serving', 'slots', 8500, true],
  ['serving', 'slots', 8503, true],
  ['setup', 'temporal', 7233, true],
  ['publisher', 'kafka', 9092, true],
  ['publisher', 'temporal', 7233, true],
  ['publisher', 'dns', 53, true],
  ['publisher', 'slots', 8501, false],
  ['publisher', 'internet', 443, false],
  ['stranger', 'publisher', 8091, false],
  ['evaluator', 'kafka', 9092, true],
  ['evaluator', 'kafka', 9093, true],
  ['evaluator', 'temporal', 7233, true],
  ['evaluator', 'dns', 53, true],
  ['evaluator', 'slots', 8501, false],
  ['evaluator', 'internet', 443, false],
  ['stranger', 'evaluator', 8092, false],
  ['slots', 'kafka', 9092, false],
  ['slots', 'temporal', 7233, false],
  ['slots', 'internet', 443, false],
  ['training', 'slots', 8501, false],
  ['setup', 'kafka', 9092, false],
  ['setup', 'minio', 9000, false],
  ['stranger', 'slots', 8501, false],
  ['stranger', 'kafka', 9092, false],
  ['stranger', 'minio', 9000, false],
  ['stranger', 'serving', 8090, false],
  ['minio', 'internet', 443, false],
  ['training', 'internet', 443, false],
];
const DEMO_FLOWS: [Name, Name, number, boolean][] = [
  ...FLOWS,
  ['training', 'minio', 9000, true],
  ['serving', 'minio', 9000, true],
  ['slots', 'minio', 9000, true],
  ['publisher', 'minio', 9000, true],
  ['evaluator', 'minio', 9000, true],
  ['minioSetup', 'minio', 9000, true],
  ['minioSetup', 'kafka', 9092, false],
  ['serving', 'minio', 9001, false],
  ['training', 's3', 443, false],
];
const PRODUCTION_FLOWS: [Name, Name, number, boolean][] = [
  ...FLOWS,
  ['training', 's3', 443, true],
  ['serving', 's3', 443, true],
  ['slots', 's3', 443, true],
  ['publisher', 's3', 443, true],
  ['evaluator', 's3', 443, true],
  ['setup', 's3', 443, false],
];

function flowProblems(policies: Policy[], flows: [Name, Name, number, boolean][]): string[] {
  return flows
    .filter(([from, to, port, want]) => flow(policies, EP[from], EP[to], port) !== want)
    .map(([from, to, port, want]) => `${from} → ${to}:${port} should be ${want ? 'allowed' : 'denied'}`);
}

describe('network: default deny and only the flows the architecture needs', () => {
  it('every workload is selected by a NetworkPolicy of its own, both directions, under the default deny', () => {
    for (const k of ['overlays/demo', 'overlays/production']) {
      const policies = networkPolicies(objects.get(k)!);
      for (const w of workloads(objects.get(k)!)) {
        const labels = (w.spec as { template: { metadata: { labels: Record<string, string> } } }).template.metadata.labels;
        const own = policies.filter(
          (p) => Object.keys(p.podSelector).length > 0 && p.name !== 'default-deny-egress' && selects(p.podSelector, labels),
        );
        expect(
          own.map((p) => p.name),
          `${k} ${w.metadata.name}`,
        ).toContain(w.metadata.name);
        const types = new Set(policies.filter((p) => selects(p.podSelector, labels)).flatMap((p) => p.types));
        expect([...types].sort(), `${k} ${w.metadata.name}`).toEqual(['Egress', 'Ingress']);
      }
    }
  });

  it('the flow table: allowed and denied, demo (in-cluster MinIO) and production (external S3)', () => {
    expect(flowProblems(networkPolicies(objects.get('overlays/demo')!), DEMO_FLOWS)).toEqual([]);
    expect(flowProblems(networkPolicies(objects.get('overlays/production')!), PRODUCTION_FLOWS)).toEqual([]);
  });

  it('the evaluator notices a missing rule and a missing default deny', () => {
    const policies = networkPolicies(objects.get('overlays/demo')!);
    const noSlots = policies.filter((p) => p.name !== 'slots');
    // without its own policy the slots are still behind the default deny: the model server loses them
    expect(flowProblems(noSlots, DEMO_FLOWS)).toEqual(expect.arrayContaining(['serving → slots:8501 should be allowed']));
    const noDefault = policies.filter((p) => !p.name.startsWith('default-deny') && p.name !== 'slots');
    expect(flowProblems(noDefault, DEMO_FLOWS)).toEqual(expect.arrayContaining(['stranger → slots:8501 should be denied']));
  });
});

// ---- helpers ----------------------------------------------------------------------

type Container = {
  name: string;
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name?: string; key?: string } } }[];
  envFrom?: { secretRef?: { name: string } }[];
};
type PodSpec = { containers: Container[]; initContainers?: Container[] };
function find(objs: K8sObject[], kind: string, name: string): K8sObject {
  const o = objs.find((x) => x.kind === kind && x.metadata.name === name);
  if (!o) throw new Error(`no ${kind} ${name}`);
  return o;
}
const podSpec = (w: K8sObject): PodSpec => (w.spec as { template: { spec: PodSpec } }).template.spec;
const workloads = (objs: K8sObject[]) => objs.filter((o) => ['Deployment', 'StatefulSet', 'Job'].includes(o.kind));
