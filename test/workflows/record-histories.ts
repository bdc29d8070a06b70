/**
 * Records workflow histories for the replay test (run by hand, then commit
 * the JSON): `npx tsx test/workflows/record-histories.ts`. Each scenario runs
 * the current workflow code with in-memory activities on the dev server.
 * Re-record only for an intended, patched() change; never to make replay pass.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { connectClient } from '../../src/temporal/connection';
import { run, TEMPORAL_BIN } from '../helpers/stack-bin';
import { startWorker, testConfig, uniqueQueue } from '../helpers/temporal';
import { fakeServingActivities, fakeTrainingActivities, fakeWorld, metrics, type FakeWorld } from './fake-activities';

const scenarios: Record<string, () => FakeWorld> = {
  deployed: () => fakeWorld(),
  rejected: () => {
    const w = fakeWorld({ candidateHitRate: 0.1 });
    const active = { slot: 'recommender', version: 3, url: 'u', metrics: metrics(0.3), kind: 'deploy' as const, workflowId: 'w', runId: 'r', deployedAt: '2026-01-01T00:00:00Z' };
    w.state = { active, standbySlot: 'recommender1', maxVersion: 3, history: [active] };
    return w;
  },
  'standby-not-ready': () => fakeWorld({ readiness: 'deadline' }),
  'publish-retried': () => fakeWorld({ failPublishOnce: true }),
};

async function main(): Promise<void> {
  const client = await connectClient(testConfig.temporal);
  for (const [name, make] of Object.entries(scenarios)) {
    const world = make();
    const training = uniqueQueue('record');
    const serving = uniqueQueue('record-serving');
    const tw = await startWorker(training, fakeTrainingActivities(world));
    const sw = await startWorker(serving, fakeServingActivities(world), false);
    const handle = await client.workflow.start('retrainAndDeploy', {
      taskQueue: training,
      workflowId: `record-${name}-${randomUUID()}`,
      args: [{ servingTaskQueue: serving, readinessTimeoutSeconds: 5 }],
    });
    await handle.result().catch(() => undefined);
    const file = path.join(__dirname, 'histories', `retrain-and-deploy-${name}.json`);
    // the CLI's JSON export is what historyFromJSON reads (also what the web UI downloads)
    const json = await run(TEMPORAL_BIN, ['workflow', 'show', '--address', testConfig.temporal.address, '-w', handle.workflowId, '-o', 'json']);
    await fs.writeFile(file, json);
    console.log(`recorded ${file}`);
    await tw.stop();
    await sw.stop();
  }
  await client.connection.close();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
