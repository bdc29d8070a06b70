/** The retention activity on real MinIO: never the active or standby version; skipped while a deploy holds the lock. */
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registryLocation } from '../../src/activities/deps';
import { retentionActivities } from '../../src/activities/retention';
import { listVersions } from '../../src/model-store';
import { lockKey, release, tryAcquire } from '../../src/registry/deploy-lock';
import { recordDeployment } from '../../src/registry/deployments';
import { tempDir, uploadVersionDir } from '../helpers/minio';
import { startTestSystem, type TestSystem } from '../helpers/system';
import fs from 'node:fs/promises';
import path from 'node:path';

let sys: TestSystem;
beforeAll(async () => {
  sys = await startTestSystem({ withWorkers: false, slots: false });
});
afterAll(async () => {
  await sys?.stop();
});

describe('applyRetention', () => {
  it('removes old versions but never the active or standby one, and skips while a deploy holds the lock', async () => {
    const loc = registryLocation(sys.config);
    const [a, b] = loc.slots;
    const dir = await tempDir('retention-it');
    for (const f of ['variables/variables.data-00000-of-00001', 'variables/variables.index', 'saved_model.pb']) {
      await fs.mkdir(path.dirname(path.join(dir, f)), { recursive: true });
      await fs.writeFile(path.join(dir, f), f);
    }
    for (const v of [1, 3, 5]) await uploadVersionDir(sys.minio, loc.modelsBucket, a, v, dir);
    for (const v of [2, 4, 6]) await uploadVersionDir(sys.minio, loc.modelsBucket, b, v, dir);
    const metrics = {} as Parameters<typeof recordDeployment>[2]['metrics'];
    const dep = (slot: string, version: number) => ({
      slot,
      version,
      url: `http://x/${slot}/${version}`,
      metrics,
      kind: 'deploy' as const,
      workflowId: 'w',
      runId: `r${version}`,
      deployedAt: new Date().toISOString(),
    });
    await recordDeployment(sys.minio, loc, dep(a, 1)); // standby of slot a: version 1 (old, but protected)
    await recordDeployment(sys.minio, loc, dep(b, 4)); // active: version 4 of slot b

    const { applyRetention } = retentionActivities({ config: sys.config, minio: sys.minio, kafka: sys.kafka });
    const env = new MockActivityEnvironment();
    const key = lockKey(loc.registryKey);
    const deploy = { workflowId: 'deploy', runId: 'run' };
    expect(await tryAcquire(sys.minio, loc.modelsBucket, key, deploy, { ttlMs: 60_000, liveness: async () => 'running' })).toMatchObject({
      acquired: true,
    });
    expect(await env.run(applyRetention, { keepVersions: 1, stagingOlderThanHours: 1 })).toEqual({
      skipped: true,
      heldBy: 'deploy (run run)',
    });
    await release(sys.minio, loc.modelsBucket, key, deploy);

    const report = (await env.run(applyRetention, { keepVersions: 1, stagingOlderThanHours: 1 })) as { skipped: boolean };
    expect(report.skipped).toBe(false);
    expect(await listVersions(sys.minio, loc.modelsBucket, a)).toEqual([1, 5]);
    expect(await listVersions(sys.minio, loc.modelsBucket, b)).toEqual([4, 6]);
    await fs.rm(dir, { recursive: true, force: true });
  });
});
