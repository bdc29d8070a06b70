/**
 * Records workflow histories for the replay test (run by hand, then commit
 * the JSON): `TEMPORAL_NAMESPACE=recommender-test npx tsx test/workflows/record-histories.ts [name-prefix]`. Each scenario runs
 * the current workflow code with in-memory activities on the dev server.
 * Histories are named `<workflow>-<scenario>-<VERSION>.json`; older versions
 * stay beside them. Record a new VERSION only for an intended, patched()
 * change; never re-record to make replay pass.
 *   v1: before the deploy lock; v2: deploy lock; v3: input schema, lease
 *   renewal, Canceled end of a cancel, rollback under the lock; v4 (retention
 *   only): retention input schema, lineage and candidate retention.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { connectClient } from '../../src/temporal/connection';
import { run, TEMPORAL_BIN } from '../helpers/stack-bin';
import { startWorker, testConfig, uniqueQueue } from '../helpers/temporal';
import { cancelRun } from '../../src/cli/commands/cancel';
import { statusQuery } from '../../src/workflows/definitions';
import type { Deployment } from '../../src/workflows/types';
import {
  fakeRetentionActivities,
  fakeServingActivities,
  fakeTrainingActivities,
  fakeWorld,
  metrics,
  type FakeWorld,
} from './fake-activities';

const VERSION = 'v4';

interface Scenario {
  workflow: 'retrainAndDeploy' | 'rollbackDeployment' | 'retention';
  world: () => FakeWorld;
  input?: object;
  /** the run's arguments instead of the deploy input (retention's input is its own) */
  args?: unknown[];
  during?: (client: Client, workflowId: string) => Promise<void>;
}

const deployment = (slot: string, version: number, hitRate: number): Deployment => ({
  slot,
  version,
  url: `http://127.0.0.1:1/v1/models/${slot}/versions/${version}:predict`,
  metrics: metrics(hitRate),
  kind: 'deploy',
  workflowId: 'w',
  runId: `r${version}`,
  deployedAt: '2026-01-01T00:00:00Z',
});

const retrain = (world: () => FakeWorld, extra: Partial<Scenario> = {}): Scenario => ({ workflow: 'retrainAndDeploy', world, ...extra });

const scenarios: Record<string, Scenario> = {
  'retrain-and-deploy-deployed': retrain(() => fakeWorld()),
  'retrain-and-deploy-rejected': retrain(() => {
    const w = fakeWorld({ candidateHitRate: 0.1 });
    const active = {
      slot: 'recommender',
      version: 3,
      url: 'u',
      metrics: metrics(0.3),
      kind: 'deploy' as const,
      workflowId: 'w',
      runId: 'r',
      deployedAt: '2026-01-01T00:00:00Z',
    };
    w.state = { active, standbySlot: 'recommender1', maxVersion: 3, history: [active] };
    return w;
  }),
  'retrain-and-deploy-standby-not-ready': retrain(() => fakeWorld({ readiness: 'deadline' })),
  'retrain-and-deploy-publish-retried': retrain(() => fakeWorld({ failPublishOnce: true })),
  'retrain-and-deploy-bad-input': retrain(() => fakeWorld(), { input: { gate: { tolerance: 'x' } } }),
  'retrain-and-deploy-cancelled': retrain(() => fakeWorld({ trainingDelayMs: 20_000 }), {
    during: async (client, workflowId) => {
      const handle = client.workflow.getHandle(workflowId);
      for (let i = 0; i < 100 && (await handle.query(statusQuery)).step !== 'training'; i++) await new Promise((r) => setTimeout(r, 100));
      await cancelRun(client, workflowId, 'recorded cancel');
    },
  }),
  'rollback-rolled-back': {
    workflow: 'rollbackDeployment',
    world: () => {
      const w = fakeWorld();
      const [v1, v2] = [deployment('recommender', 1, 0.3), deployment('recommender1', 2, 0.31)];
      w.state = { active: v2, standbySlot: 'recommender', maxVersion: 2, history: [v1, v2], recorded: 2 };
      return w;
    },
  },
  'retention-pruned': { workflow: 'retention', world: () => fakeWorld(), args: [{ keepVersions: 2 }] },
  'retention-skipped': { workflow: 'retention', world: () => fakeWorld({ retentionHeldBy: 'deploy (run r)' }), args: [{}] },
  'retention-bad-input': { workflow: 'retention', world: () => fakeWorld(), args: [{ keepVersions: 0 }] },
};

async function main(): Promise<void> {
  const client = await connectClient(testConfig.temporal);
  // an optional name prefix records only those scenarios (e.g. `retention`)
  const only = process.argv[2];
  for (const [name, scenario] of Object.entries(scenarios)) {
    if (only && !name.startsWith(only)) continue;
    const world = scenario.world();
    const training = uniqueQueue('record');
    const serving = uniqueQueue('record-serving');
    const tw = await startWorker(training, { ...fakeTrainingActivities(world), ...fakeRetentionActivities(world) });
    const sw = await startWorker(serving, fakeServingActivities(world), false);
    const handle = await client.workflow.start(scenario.workflow, {
      taskQueue: training,
      workflowId: `record/${name}/${randomUUID()}`,
      args: scenario.args ?? [{ servingTaskQueue: serving, readinessTimeoutSeconds: 5, ...scenario.input }],
      staticSummary: `recorded scenario ${name}`,
    });
    await scenario.during?.(client, handle.workflowId);
    await handle.result().catch(() => undefined);
    const file = path.join(__dirname, 'histories', `${name}-${VERSION}.json`);
    // the CLI's JSON export is what historyFromJSON reads (also what the web UI downloads)
    const json = await run(TEMPORAL_BIN, [
      'workflow',
      'show',
      '--address',
      testConfig.temporal.address,
      '--namespace',
      testConfig.temporal.namespace,
      '-w',
      handle.workflowId,
      '-o',
      'json',
    ]);
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
