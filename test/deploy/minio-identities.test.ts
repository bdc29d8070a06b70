/**
 * Issue 24, item 9, run for real: the object store's set-up script
 * (deploy/k8s/infra/minio/setup.sh, the Kubernetes Job's and Compose's
 * minio-init) with the MinIO client against the local MinIO, on buckets of
 * its own. Each identity can then do what the docs' table says and nothing
 * more; the model store publishes as the training worker, the tfserving
 * sync sidecar reads as the slots, and the online evaluator checkpoints
 * (and reads the registry for its rollback policy) as itself, under those
 * policies.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Client } from 'minio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config';
import { exportSavedModel } from '../../src/savedmodel';
import { errorCode } from '../../src/storage/objects';
import { tempDir, uploadVersionDir } from '../helpers/minio';
import { randomWeights } from '../helpers/network';
import { startOnlineEvaluator } from '../../src/evaluation/evaluator';
import { silentLog } from '../../src/process/json-log';
import { listKeys } from '../../src/storage/objects';
import { readDeploymentState, registryLocation } from '../../src/store/registry';
import { EvaluatorRig } from '../evaluation/rig';
import { seedTraffic } from '../evaluation/traffic';
import { DEPLOY, run, validators } from './tools';

const SETUP = path.join(DEPLOY, 'k8s/infra/minio/setup.sh');
const cfg = loadConfig();
const endpoint = `http://${cfg.minio.endPoint}:${cfg.minio.port}`;
const id = randomUUID().slice(0, 8);
const DATA = `lp-data-${id}`;
const MODELS = `lp-models-${id}`;
const USERS = ['training-worker', 'serving-worker', 'slots', 'data-publisher', 'online-evaluator'] as const;
type User = (typeof USERS)[number];
const accessKey = (u: User) => `lp-${id}-${u}`;
const secretKey = (u: User) => `secret-${id}-${u}`;
const varName = (u: User) => u.toUpperCase().replace(/-/g, '_');
const root = new Client({ ...cfg.minio });
const as = (u: User) => new Client({ ...cfg.minio, accessKey: accessKey(u), secretKey: secretKey(u) });
let work: string;
let mc: string;

function identityEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const u of USERS) {
    env[`MINIO_${varName(u)}_ACCESS_KEY`] = accessKey(u);
    env[`MINIO_${varName(u)}_SECRET_KEY`] = secretKey(u);
  }
  return env;
}
function setup(extra: Record<string, string> = {}) {
  return run('sh', [SETUP], {
    env: {
      PATH: `${path.dirname(mc)}:${process.env.PATH}`,
      MC_CONFIG_DIR: path.join(work, 'mc'),
      MINIO_ENDPOINT: endpoint,
      MINIO_ROOT_USER: cfg.minio.accessKey,
      MINIO_ROOT_PASSWORD: cfg.minio.secretKey,
      DATA_BUCKET: DATA,
      MODELS_BUCKET: MODELS,
      POLICY_DIR: path.join(DEPLOY, 'k8s/infra/minio/policies'),
      ...identityEnv(),
      ...extra,
    },
  });
}
function admin(args: string[]) {
  return run(mc, args, { env: { ...process.env, MC_CONFIG_DIR: path.join(work, 'mc') } });
}
/** 'ok' or the S3 error code of one operation. */
async function outcome(op: () => Promise<unknown>): Promise<string> {
  try {
    await op();
    return 'ok';
  } catch (error) {
    return errorCode(error) ?? String(error);
  }
}
async function rights(u: User): Promise<Record<string, string>> {
  const c = as(u);
  const result: Record<string, string> = {};
  for (const [name, bucket] of [
    ['data', DATA],
    ['models', MODELS],
  ]) {
    const key = `probe/${u}.txt`;
    result[`${name}:put`] = await outcome(() => c.putObject(bucket, key, Buffer.from(u)));
    result[`${name}:get`] = await outcome(async () => (await c.getObject(bucket, 'probe/root.txt')).resume());
    result[`${name}:list`] = await outcome(async () => {
      for await (const _ of c.listObjectsV2(bucket, 'probe/', true)) void _;
    });
    result[`${name}:delete`] = await outcome(() => c.removeObject(bucket, 'probe/root.txt'));
    await root.putObject(bucket, 'probe/root.txt', Buffer.from('root')); // restore for the next identity
  }
  return result;
}

beforeAll(async () => {
  mc = validators().mc;
  work = await tempDir('minio-identities');
}, 20 * 60_000);

afterAll(async () => {
  for (const u of USERS) admin(['admin', 'user', 'remove', 'store', accessKey(u)]);
  for (const p of ['recommender-training', 'recommender-models-read', 'recommender-data-write', 'recommender-online-evaluator'])
    admin(['admin', 'policy', 'remove', 'store', p]);
  for (const bucket of [DATA, MODELS]) {
    if (!(await root.bucketExists(bucket))) continue;
    const keys: string[] = [];
    for await (const o of root.listObjectsV2(bucket, '', true)) if (o.name) keys.push(o.name);
    if (keys.length) await root.removeObjects(bucket, keys);
    await root.removeBucket(bucket);
  }
  await fs.rm(work, { recursive: true, force: true });
});

describe('MinIO identities made by the set-up script, on the real MinIO', () => {
  it('refuses a missing secret and the root account as an identity', () => {
    const missing = setup({ MINIO_SLOTS_SECRET_KEY: '' });
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('MINIO_SLOTS_ACCESS_KEY and MINIO_SLOTS_SECRET_KEY must be set (identity slots)');
    const rootAsSlots = setup({ MINIO_SLOTS_ACCESS_KEY: cfg.minio.accessKey });
    expect(rootAsSlots.status).toBe(1);
    expect(rootAsSlots.stderr).toContain('identity slots must not use the root account');
  });

  it('creates buckets, policies and users; a second run changes nothing and succeeds', async () => {
    const first = setup();
    expect(first.status, first.stderr).toBe(0);
    expect(first.stdout).toContain(`identity slots: user ${accessKey('slots')}, policy recommender-models-read`);
    const again = setup();
    expect(again.status, again.stderr).toBe(0);
    for (const b of [DATA, MODELS]) {
      expect(await root.bucketExists(b)).toBe(true);
      await root.putObject(b, 'probe/root.txt', Buffer.from('root'));
    }
  });

  it("each identity has exactly its table's rights", async () => {
    const rw = { put: 'ok', get: 'ok', list: 'ok', delete: 'ok' };
    const read = { put: 'AccessDenied', get: 'ok', list: 'ok', delete: 'AccessDenied' };
    const none = { put: 'AccessDenied', get: 'AccessDenied', list: 'AccessDenied', delete: 'AccessDenied' };
    const expected = (data: typeof rw, models: typeof rw) =>
      Object.fromEntries([
        ...Object.entries(data).map(([k, v]) => [`data:${k}`, v]),
        ...Object.entries(models).map(([k, v]) => [`models:${k}`, v]),
      ]);
    expect(await rights('training-worker')).toEqual(expected(rw, rw));
    expect(await rights('serving-worker')).toEqual(expected(none, read));
    expect(await rights('slots')).toEqual(expected(none, read));
    expect(await rights('data-publisher')).toEqual(expected(rw, none));
    // outside online/ and registry/ the evaluator may only list the models bucket (the rollback policy lists the slots' versions)
    expect(await rights('online-evaluator')).toEqual(expected(none, { ...none, list: 'ok' }));
  });

  it('the online evaluator checkpoints under online/ and reads the registry as itself; it cannot write the registry or read a model', async () => {
    const rig = new EvaluatorRig({
      MODELS_BUCKET: MODELS,
      MINIO_ACCESS_KEY: accessKey('online-evaluator'),
      MINIO_SECRET_KEY: secretKey('online-evaluator'),
    });
    await rig.createTopics(1);
    const evaluator = await startOnlineEvaluator({ config: rig.config, port: 0, defaultMetrics: false, log: silentLog });
    try {
      await evaluator.whenConsuming();
      await rig.stream(seedTraffic(50_001, 51_001), 200, 0);
      await rig.untilCheckpointed(rig.config.evaluator.groupId, 90_000); // reads online/<group>/ as the evaluator
      expect(evaluator.health()).toEqual({ ok: true, problems: [] });
      const self = as('online-evaluator');
      const loc = registryLocation(rig.config);
      await root.putObject(MODELS, loc.registryKey, Buffer.from(JSON.stringify({ history: [] })));
      expect((await readDeploymentState(self, loc)).active).toBeNull(); // the rollback policy's read
      expect(await outcome(() => self.putObject(MODELS, loc.registryKey, Buffer.from('{}')))).toBe('AccessDenied');
      await root.putObject(MODELS, 'evaluator-probe/1/saved_model.pb', Buffer.from('model'));
      expect(await outcome(async () => (await self.getObject(MODELS, 'evaluator-probe/1/saved_model.pb')).resume())).toBe('AccessDenied');
    } finally {
      await evaluator.close();
      await rig.cleanUp(); // removes online/<group>/ as the evaluator
    }
    expect(await listKeys(root, MODELS, 'online/')).toEqual([]);
  }, 180_000);

  it('the training worker publishes a version through the model store; the slots identity syncs it, and cannot write', async () => {
    const model = path.join(work, 'model');
    await exportSavedModel(randomWeights(30, 15, 8, 6, 1, 'sigmoid'), model);
    await uploadVersionDir(as('training-worker'), MODELS, 'recommender', 1, model); // claim (conditional write), stage, copy, verify
    await expect(uploadVersionDir(as('slots'), MODELS, 'recommender', 2, model)).rejects.toThrow(/Access Denied/);
    const dest = path.join(work, 'tfserving');
    const r = run(process.execPath, ['--import', 'tsx', path.join(DEPLOY, 'tfserving/sync-versions.mjs'), 'recommender', dest, '--once'], {
      env: {
        ...process.env,
        RECOMMENDER_CODE: 'src',
        MINIO_ENDPOINT: endpoint,
        MINIO_ACCESS_KEY: accessKey('slots'),
        MINIO_SECRET_KEY: secretKey('slots'),
        MODELS_BUCKET: MODELS,
      },
    });
    expect(r.status, r.stderr).toBe(0);
    expect(await fs.readdir(path.join(dest, 'recommender'))).toEqual(['1']);
  });
});
