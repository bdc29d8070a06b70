/**
 * "Temporal web UI inspection", as a person would do it, in headless
 * Chromium (Debian's) driven by playwright-core, of a run started by the
 * project's Schedule (as `schedule create` makes it): open the run's page, find
 * the training activity's last heartbeat while it trains, then the search
 * attributes (model version, slot, HR@10) and the memo, and the run in the
 * list filtered by its search attribute, and the run's user metadata: the
 * static summary and details it was started with, the summary of every
 * activity call and the current details (live step and training progress,
 * then the metrics table and the gate's decision); the Schedule's summary
 * (its note); a rollback's and a retention run's summaries and details; the
 * active model's online figures in the next run's details, and a rollback the
 * online policy started, with its evidence as its summary.
 * Screenshots go to artifacts/web-ui/.
 */
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readProgress } from '../../src/cli/run-progress';
import { scheduleUrl, workflowUrl } from '../../src/cli/ui-links';
import { runRetention } from '../../src/cli/commands/retention';
import { createSchedule, triggerSchedule } from '../../src/cli/commands/schedule';
import { rollbackMetadata } from '../../src/cli/workflow-input';
import { checkOnlineRollback, onlineRollbackId } from '../../src/evaluation/online-rollback';
import { onlineStoreFor } from '../../src/store/online-figures';
import { versionFigures, writeOnlineFigures } from '../helpers/online-figures';
import type { RetrainAndDeployResult } from '../../src/workflows/types';
import { startTestSystem, type TestSystem } from '../helpers/system';

const SHOTS = path.resolve(__dirname, '../../artifacts/web-ui');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
let sys: TestSystem;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  fs.mkdirSync(SHOTS, { recursive: true });
  sys = await startTestSystem();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
});
afterAll(async () => {
  await browser?.close();
  await sys?.stop();
});

/** The page's text, with that of its frames (the UI renders user-metadata Markdown in sandboxed iframes). */
async function pageText(): Promise<string> {
  const parts = await Promise.all(page.frames().map((f) => f.innerText('body', { timeout: 300 }).catch(() => '')));
  return parts.join('\n');
}

async function visit(url: string, shot: string, expected: RegExp[]): Promise<string> {
  let text = '';
  // A single-page app that keeps polling a running workflow (never "network
  // idle"): load it, then read its rendered text until everything shows.
  for (let attempt = 0; attempt < 3; attempt++) {
    await page.goto(url, { waitUntil: 'load' });
    for (let i = 0; i < 40; i++) {
      text = await pageText();
      if (expected.every((re) => re.test(text))) break;
      // the user-metadata tab fetches the current details once (a query to
      // the busy training worker); its "R" key fetches them again
      if (i % 8 === 7 && url.endsWith('/user-metadata')) await page.keyboard.press('r');
      await page.waitForTimeout(250);
    }
    if (expected.every((re) => re.test(text))) break;
    await page.screenshot({ path: path.join(SHOTS, `attempt-${attempt}-${shot}`), fullPage: true });
    console.log(`attempt ${attempt}: missing ${expected.filter((re) => !re.test(text)).join(', ')} in:\n${text.slice(-1500)}`);
  }
  await page.screenshot({ path: path.join(SHOTS, shot), fullPage: true });
  for (const re of expected) expect(text).toMatch(re);
  return text;
}

/**
 * The online figures in the web UI: the next run's current details show the active model's online figures beside
 * the candidate's offline ones; then a version that loses online is rolled back by the policy, with its evidence as
 * the rollback's summary (the figures are the evaluator's checkpoint, written here as the evaluator writes it).
 */
async function onlineFiguresAndPolicyRollback(first: RetrainAndDeployResult): Promise<void> {
  await writeOnlineFigures(sys.minio, sys.config, versionFigures(first.slot!, first.version!, 400, 120));
  const next = await sys.temporal.workflow.start('retrainAndDeploy', {
    taskQueue: sys.config.temporal.taskQueues.training,
    workflowId: `web-ui-online-${sys.id}`,
    args: [
      {
        servingTaskQueue: sys.config.temporal.taskQueues.serving,
        data: { mode: 'existing' },
        training: { objective: 'implicit', epochs: 4 },
        gate: { tolerance: 1, popularityMargin: 0 }, // the figures below are written, not measured: deploy whatever it scores
      },
    ],
  });
  const second = (await next.result()) as RetrainAndDeployResult;
  expect(second.outcome).toBe('deployed');
  await visit(
    `${workflowUrl(sys.config.temporal, next.workflowId, next.firstExecutionRunId).replace(/\/history$/, '')}/user-metadata`,
    'user-metadata-online.png',
    [
      /metric\s+candidate\s+popularity/,
      new RegExp(
        `Active model online: version ${first.version} \\(slot ${first.slot}\\): 800 requests answered, 400 purchases followed one, online HR@10 30\\.0 %`,
      ),
      /popularity\s+400\s+15\.0 %\s+15\.0 %/,
      /read the active model's online figures/,
    ],
  );
  await writeOnlineFigures(sys.minio, sys.config, versionFigures(second.slot!, second.version!, 400, 80, 140));
  const policy = { config: { ...sys.config, onlineRollback: { minPairs: 300, checkMs: 1000 } }, minio: sys.minio, temporal: sys.temporal };
  const started = await checkOnlineRollback({ ...policy, store: onlineStoreFor(sys.minio, sys.config), log: () => undefined });
  expect(started).toBe(onlineRollbackId(second.slot!, second.version!));
  const rollback = sys.temporal.workflow.getHandle(started!);
  expect(await rollback.result()).toMatchObject({ outcome: 'rolled-back', version: first.version });
  const { runId } = await rollback.describe();
  await visit(
    `${workflowUrl(sys.config.temporal, started!, runId).replace(/\/history$/, '')}/user-metadata`,
    'user-metadata-online-rollback.png',
    [
      new RegExp(
        `rollback to the previous deployment on online evidence: version ${second.version} \\(slot ${second.slot}\\): online HR@10 20\\.0 % vs the previous model.s 35\\.0 % on the same 400 followed purchases`, // the UI typesets the apostrophe
      ),
      /Trigger: started by the online rollback policy/,
      /Done: rolled-back/,
    ],
  );
}

describe('Temporal web UI inspection of a run', () => {
  it('shows the training heartbeat, the search attributes, the memo, the user metadata and the run in the filtered list', async () => {
    // started as the project's Schedule starts it: the schedule's action carries the static summary and details
    const scheduleId = `it-${sys.id}-web-ui`;
    const cfg = { ...sys.config, temporal: { ...sys.config.temporal, scheduleId } };
    await createSchedule(sys.temporal, cfg, {
      interval: '1h',
      catchupWindow: '10m',
      paused: true, // only the trigger below starts a run
      dataMode: 'generate',
      seed: '4',
      objective: 'implicit',
      epochs: '8',
    });
    const started = await triggerSchedule(sys.temporal, scheduleId);
    if (!started) throw new Error('the schedule started no run');
    const workflowId = started.workflowId;
    const handle = sys.temporal.workflow.getHandle(workflowId, started.runId);
    const runUrl = workflowUrl(sys.config.temporal, workflowId, started.runId).replace(/\/history$/, '');
    for (;;) {
      const p = await readProgress(handle);
      if (p.heartbeat?.batch) {
        // the worker sends heartbeats every few seconds (HEARTBEAT_THROTTLE), not once at 80 % of the
        // heartbeat timeout: the first batch shows while training is far from done
        expect(p.heartbeat.epoch).toBeLessThan(4);
        break;
      }
      if (p.closed) throw new Error('run ended before training heartbeated');
      await new Promise((r) => setTimeout(r, 200));
    }
    // while it trains: what started it, and the live step (the training signal arrives once per epoch)
    await visit(`${runUrl}/user-metadata`, 'user-metadata-training.png', [
      /retrain & deploy: implicit objective, 8 epochs, data generate — started by the Temporal Schedule/,
      /Trigger: started by the Temporal Schedule/,
      /"epochs": 8/,
      /Current Details/,
      /Step: Training/,
      /Training: epoch \d+ of 8/,
      /train implicit model, 8 epochs on [\d,]+ purchases of [\d,]+ customers/,
    ]);
    await visit(`${runUrl}/pending-activities`, 'pending-activities-heartbeat.png', [/trainModel/, /"epoch":\s*\d+/, /"loss"/]);

    const result = (await handle.result()) as RetrainAndDeployResult;
    expect(result.outcome).toBe('deployed');
    await visit(`${runUrl}/search-attributes`, 'search-attributes.png', [
      new RegExp(`"RecommenderModelVersion":\\s*${result.version}`),
      new RegExp(`"RecommenderSlot":\\s*"${result.slot}"`),
      /"RecommenderHitRate10":\s*0\.\d+/,
      /"RecommenderOutcome":\s*"deployed"/,
    ]);
    await visit(`${runUrl}/memo`, 'memo.png', [/"hitRate10"/, /"sha256"/, /"gate"/]);
    // at the end: the metrics table and the gate's decision, and a summary on every activity call
    await visit(`${runUrl}/user-metadata`, 'user-metadata-done.png', [
      /Done: deployed/,
      /metric\s+candidate\s+popularity\s+active model/,
      /HR@10\s+0\.\d{4}\s+0\.\d{4}/,
      /Gate: deploy — first model: HR@10/,
      /Data: .*sha256 [0-9a-f]{12}/,
      /refresh purchase history \(generate\)/,
      /wait for the deploy lock/,
      new RegExp(`export SavedModel version ${result.version} to standby slot ${result.slot}`),
      new RegExp(`wait until slot ${result.slot} serves version ${result.version}`),
      /publish http:\S+ on Kafka/,
      new RegExp(`record version ${result.version} in slot ${result.slot} as active`),
      /release the deploy lock/,
    ]);
    // the Schedule's own summary: the web UI shows its note
    await visit(scheduleUrl(sys.config.temporal, scheduleId), 'schedule.png', [
      /Notes/,
      /retrain & deploy every 1h: implicit objective, data generate, overlap SKIP/,
      new RegExp(workflowId),
    ]);
    await sys.temporal.schedule.getHandle(scheduleId).delete();

    // a rollback started as `recommender rollback` starts it: nothing to return to after one deploy, and it says so
    const rollbackInput = { servingTaskQueue: sys.config.temporal.taskQueues.serving };
    const rollback = await sys.temporal.workflow.start('rollbackDeployment', {
      taskQueue: sys.config.temporal.taskQueues.training,
      workflowId: `web-ui-rollback-${sys.id}`,
      args: [rollbackInput],
      ...rollbackMetadata(rollbackInput),
    });
    await rollback.result().catch(() => undefined);
    await visit(
      `${workflowUrl(sys.config.temporal, rollback.workflowId, rollback.firstExecutionRunId).replace(/\/history$/, '')}/user-metadata`,
      'user-metadata-rollback.png',
      [
        /rollback to the previous deployment — started by hand \(recommender rollback\)/,
        /Target: the previous deployment/,
        /Done: failed/,
        /cannot roll back: no earlier deployment in the other slot/,
      ],
    );

    await onlineFiguresAndPolicyRollback(result);

    // a retention run (dry run: the shared candidates/ prefix is everyone's): its summary and its report as current details
    const retention = await runRetention(sys.temporal, sys.config, { dryRun: true, keepVersions: 1 });
    expect((await retention.report).skipped).toBe(false);
    await visit(
      `${workflowUrl(sys.config.temporal, retention.handle.workflowId, retention.handle.firstExecutionRunId).replace(/\/history$/, '')}/user-metadata`,
      'user-metadata-retention.png',
      [
        /retention: dry run: keep 1 version and 1 lineage record per slot .* — started by hand \(recommender retention run\)/,
        /Done: dry run/,
        /slot\s+kept versions\s+would remove: versions\s+lineage\s+staging\s+size/,
        new RegExp(`${result.slot}\\s+${result.version}`),
        /Candidates: would remove \d+/,
      ],
    );

    const query = encodeURIComponent(`RecommenderSlot="${result.slot}" AND WorkflowType="retrainAndDeploy"`);
    await visit(`${sys.config.temporal.uiUrl}/namespaces/${sys.config.temporal.namespace}/workflows?query=${query}`, 'workflow-list.png', [
      new RegExp(workflowId),
    ]);
  }, 900_000);
});
