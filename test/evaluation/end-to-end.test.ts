/**
 * Quality out through the whole system (issue 23, real stack): a slice of
 * the seed's real history replayed (src/cli/replay.ts) through the real data
 * publisher, the real model server with both real slots serving versions
 * deployed by the real retrainAndDeploy workflow, and the real evaluator
 * process.
 *  - stream equals batch: the evaluator's persisted figures equal the batch
 *    function over every record the system wrote on the results, shadow and
 *    purchases topics, count for count, per version and per shadow;
 *  - rollback on evidence: a deliberately worse version deployed during the
 *    replay is rolled back by the policy, once, with the evidence.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { publishStartingHistory, streamPurchases, type ReplayOptions, type StartingHistory } from '../../src/cli/replay';
import { startDataPublisher, type DataPublisher } from '../../src/ingest/publisher';
import { silentLog as publisherSilent } from '../../src/ingest/log';
import { onlineRollbackId } from '../../src/evaluation/online-rollback';
import { spawnEntry, stopProcess, waitForLog, type Managed } from '../../src/process/children';
import { startModelServer, silentLog, type ModelServer } from '../../src/serving/model-server';
import { onlineFigures, readCheckpoints } from '../../src/store/online-figures';
import { onlineGroupPrefix } from '../../src/store/layout';
import { removePrefix } from '../helpers/minio';
import { readDeploymentState, registryLocation } from '../../src/store/registry';
import type { RetrainAndDeployResult } from '../../src/workflows/types';
import { startTestSystem, type TestSystem } from '../helpers/system';
import { EvaluatorRig, WINDOW_ENV } from './rig';
import { SEED_LINES } from './traffic';

const LOG_DIR = path.resolve(__dirname, '../../artifacts/evaluation');
/** lines of the starting history (the deployed models' training data), then lines streamed after it */
const BASE = 12_000;
const STEP_MS = 1_000;
/**
 * Purchases a second: event time runs STEP_MS × RATE = 50 times faster than
 * wall time, so the standby's previous-model shadows (written from its queue,
 * after the popularity shadows of later answers on the same topic) may lag
 * up to the grace (WINDOW_ENV: 5 min) / 50 = 6 s of wall time before they
 * are late. (Faster, most of them are: the lateness front is the shadow
 * topic-partition's, whatever the kind.)
 */
const RATE = 50;

interface Running {
  sys: TestSystem;
  rig: EvaluatorRig;
  publisher?: DataPublisher;
  server?: ModelServer;
  evaluator?: Managed;
  dir: string;
}
let running: Running | undefined;

afterEach(async () => {
  const r = running;
  running = undefined;
  if (!r) return;
  if (r.evaluator) await stopProcess(r.evaluator, 10_000);
  await r.server?.close();
  await r.publisher?.close();
  // the topics go with the system; the evaluator's checkpoints here
  await removePrefix(r.sys.minio, r.sys.config.buckets.models, onlineGroupPrefix(r.sys.config.evaluator.groupId));
  await r.sys.stop();
  await fs.rm(r.dir, { recursive: true, force: true });
});

/** A test system with purchase topics, evaluator group and shadow share of its own; the seed's first `lines` lines as a file. */
async function startSystem(lines: number, env: NodeJS.ProcessEnv): Promise<Running> {
  const tag = randomUUID().slice(0, 8);
  const sys = await startTestSystem({
    env: {
      TOPIC_PURCHASES: `purchases-it-${tag}`,
      TOPIC_PURCHASES_DLQ: `purchases-dlq-it-${tag}`,
      EVALUATOR_CHECKPOINT_MS: '500',
      EVALUATOR_SESSION_TIMEOUT_MS: '6000',
      ...WINDOW_ENV,
      ...env,
    },
  });
  const rig = new EvaluatorRig(sys.env);
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'e2e-'));
  running = { sys, rig, dir };
  await fs.writeFile(path.join(dir, 'transactions.csv'), SEED_LINES.slice(0, lines + 1).join('\n') + '\n');
  return running;
}

async function run(sys: TestSystem, workflow: 'retrainAndDeploy' | 'rollbackDeployment', input: object): Promise<RetrainAndDeployResult> {
  const handle = await sys.temporal.workflow.start(workflow, {
    taskQueue: sys.config.temporal.taskQueues.training,
    workflowId: `it-${sys.id}-${workflow}-${randomUUID()}`,
    args: [{ servingTaskQueue: sys.config.temporal.taskQueues.serving, readinessTimeoutSeconds: 120, ...input }],
  });
  return (await handle.result()) as RetrainAndDeployResult;
}

/** The real data publisher, the real model server (its own group) and the real evaluator process, all consuming. */
async function startServing(r: Running): Promise<void> {
  r.publisher = await startDataPublisher({ config: r.sys.config, port: 0, defaultMetrics: false, log: publisherSilent });
  r.server = await startModelServer({ config: r.sys.config, port: 0, groupId: `ms-${r.sys.id}`, log: silentLog, defaultMetrics: false });
  r.evaluator = spawnEntry(`online-evaluator-e2e-${r.sys.id}`, 'src/evaluation/main.ts', ['--port', '0'], LOG_DIR, { env: r.sys.env });
  await Promise.all([r.publisher.whenConsuming(), r.server.whenConsuming(), waitForLog(r.evaluator, /online evaluator consuming/, 60_000)]);
}

async function until(what: string, check: () => Promise<boolean> | boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}

const serving = (r: Running, version: number) =>
  until(`the model server on version ${version}`, () => r.server?.currentModel()?.version === version, 60_000);

/**
 * Streams lines [from, to) of the file (each purchase after its customer's
 * visit), event times `STEP_MS` apart ending at `end` for line `total - 1`:
 * the parts of one replay keep one time line.
 */
async function replayPart(r: Running, history: StartingHistory, from: number, to: number, end: number): Promise<void> {
  const part = { lines: history.lines.slice(0, to), baseLines: from };
  const options: ReplayOptions = {
    file: '',
    start: from,
    rate: RATE,
    stepMs: STEP_MS,
    replace: false,
    now: end - (history.lines.length - to) * STEP_MS,
  };
  await streamPurchases(r.sys.config, part, options);
}

/** Until every visit sent has its answer and the shadow topic has stopped growing (the standby's queue drained). */
async function untilAnswered(r: Running, visits: number): Promise<void> {
  const sum = (m: Map<number, bigint>) => [...m.values()].reduce((a, b) => a + Number(b), 0);
  await until(`${visits} answers`, async () => sum((await r.rig.highWatermarks()).results) >= visits, 120_000);
  let shadows = -1;
  await until(
    'the shadows',
    async () => {
      const now = sum((await r.rig.highWatermarks()).shadows);
      const still = now === shadows;
      shadows = now;
      return still;
    },
    60_000,
  );
}

describe('quality out through the whole system (replay, publisher, model server, slots, evaluator)', () => {
  it('stream equals batch: the persisted figures equal the batch function over every record the system wrote, per version and shadow', async () => {
    const STREAM = 2_000;
    const r = await startSystem(BASE + STREAM, { SHADOW_SHARE: '0.5' });
    const history = await publishStartingHistory(r.sys.config, { file: path.join(r.dir, 'transactions.csv'), start: BASE, replace: false });
    const first = await run(r.sys, 'retrainAndDeploy', { data: { mode: 'history' } });
    const second = await run(r.sys, 'retrainAndDeploy', { data: { mode: 'history' }, gate: { tolerance: 1 } });
    expect([first.outcome, second.outcome]).toEqual(['deployed', 'deployed']);
    expect(second.slot).not.toBe(first.slot);
    await startServing(r);
    await serving(r, second.version!);
    const end = Date.now();
    const half = BASE + STREAM / 2;
    // the first half answered by the second version (the first one's shadows from the standby slot), the second half by
    // the first version after a real rollback (the second one's shadows)
    await replayPart(r, history, BASE, half, end);
    await untilAnswered(r, STREAM / 2);
    expect((await run(r.sys, 'rollbackDeployment', {})).outcome).toBe('rolled-back');
    await serving(r, first.version!);
    await replayPart(r, history, half, BASE + STREAM, end);
    await untilAnswered(r, STREAM);
    await r.rig.untilCheckpointed(r.rig.config.evaluator.groupId, 120_000);

    const batch = await r.rig.batch();
    const persisted = await onlineFigures(r.rig.store());
    const records = (await readCheckpoints(r.rig.store())).map((c) => c.state.records);
    const labels = [`${first.slot}/${first.version}`, `${second.slot}/${second.version}`].sort();
    expect(Object.keys(batch.figures).sort()).toEqual(labels);
    for (const label of labels) {
      const f = batch.figures[label];
      expect(f.followed, label).toBeGreaterThan(300);
      expect(f.shadows.popularity.paired, label).toBeGreaterThan(300);
      expect(f.shadows['previous-model'].paired, label).toBeGreaterThan(100);
    }
    expect(batch.invalid).toEqual({ results: 0, shadows: 0, purchases: 0 });
    expect(
      records.reduce((n, c) => n + c.results.taken, 0),
      'every answer taken, none late',
    ).toBe(STREAM);
    expect(persisted).toEqual(batch.figures);
  }, 420_000);

  it('rollback on evidence: a worse version deployed during the replay is rolled back by the policy, once, with the evidence', async () => {
    const PART = 300;
    const STREAM = 2_000;
    const r = await startSystem(BASE + STREAM, { SHADOW_SHARE: '1', ONLINE_ROLLBACK_MIN_PAIRS: '150', ONLINE_ROLLBACK_CHECK_MS: '500' });
    const history = await publishStartingHistory(r.sys.config, { file: path.join(r.dir, 'transactions.csv'), start: BASE, replace: false });
    const good = await run(r.sys, 'retrainAndDeploy', { data: { mode: 'history' } });
    expect(good.outcome).toBe('deployed');
    await startServing(r);
    await serving(r, good.version!);
    const end = Date.now();
    await replayPart(r, history, BASE, BASE + PART, end);
    // deliberately worse: the network of the seed's recipe, one epoch at a learning rate that leaves it near its random
    // start, let through a gate told to take anything
    const bad = await run(r.sys, 'retrainAndDeploy', {
      data: { mode: 'history' },
      training: { objective: 'seed', epochs: 1, learningRate: 1e-6, embeddingDim: 2, evalUsers: 200 },
      gate: { tolerance: 1, popularityMargin: 0, minHitRate: 0 },
    });
    expect(bad.outcome).toBe('deployed');
    expect(bad.slot).not.toBe(good.slot);
    await serving(r, bad.version!);
    await replayPart(r, history, BASE + PART, BASE + STREAM, end);
    await untilAnswered(r, STREAM);

    const registry = registryLocation(r.sys.config);
    await until(
      'the good version active again',
      async () => (await readDeploymentState(r.sys.minio, registry)).active?.version === good.version,
      120_000,
    );
    const id = onlineRollbackId(bad.slot!, bad.version!);
    // once: the policy keeps checking (the good version, now active, has the bad one's shadows and wins) and starts nothing more
    await r.rig.untilCheckpointed(r.rig.config.evaluator.groupId, 120_000);
    await sleep(3_000);
    const rollbacks: string[] = [];
    for await (const w of r.sys.temporal.workflow.list({ query: `TaskQueue = '${r.sys.config.temporal.taskQueues.training}'` }))
      if (w.type === 'rollbackDeployment') rollbacks.push(w.workflowId);
    expect(rollbacks).toEqual([id]);
    const handle = r.sys.temporal.workflow.getHandle(id);
    const result = (await handle.result()) as RetrainAndDeployResult;
    expect(result).toMatchObject({ outcome: 'rolled-back', slot: good.slot, version: good.version });
    const evidence = new RegExp(
      `version ${bad.version} \\(slot ${bad.slot}\\): online HR@10 [\\d.]+ % vs the previous model's [\\d.]+ % on the same \\d+ followed purchases`,
    );
    expect(result.reason).toMatch(evidence);
    const description = await handle.describe();
    expect(await description.staticSummary()).toMatch(/^rollback to the previous deployment on online evidence: /);
    expect(await description.staticSummary()).toMatch(evidence);
    expect(await description.staticDetails()).toContain(`| ${bad.slot}/${bad.version} |`);
    const active = (await readDeploymentState(r.sys.minio, registry)).active;
    expect(active).toMatchObject({ slot: good.slot, version: good.version, kind: 'rollback' });

    const figures = await onlineFigures(r.rig.store());
    const previous = figures[`${bad.slot}/${bad.version}`].shadows['previous-model'];
    expect(previous.paired).toBeGreaterThanOrEqual(150);
    expect(previous.modelHits).toBeLessThan(previous.shadowHits);
  }, 420_000);
});
