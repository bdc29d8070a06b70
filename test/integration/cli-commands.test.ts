/**
 * The ways people start runs, as the README shows them, against the local
 * dev server: `temporal schedule create` + trigger, `temporal workflow start`
 * and `tctl workflow start`. Each run must complete and deploy.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLog, startModelServer, type ModelServer } from '../../src/serving/model-server';
import type { RetrainAndDeployResult } from '../../src/workflows/types';
import { run, TCTL_BIN, TEMPORAL_BIN } from '../helpers/stack-bin';
import { startTestSystem, type TestSystem } from '../helpers/system';

let sys: TestSystem;
let server: ModelServer;
beforeAll(async () => {
  sys = await startTestSystem();
  server = await startModelServer({ config: sys.config, port: 0, groupId: `model-server-${sys.id}`, loadPopularity: null, log: silentLog });
});
afterAll(async () => {
  await server?.close();
  await sys?.stop();
});

const root = path.join(__dirname, '..', '..');
/** One of the project's command-line tools, as `npm run …` runs it, in the test system's environment. */
async function projectCli(script: string, args: string[]): Promise<string> {
  const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', path.join(root, script), ...args], {
    env: sys.env,
    cwd: root,
    timeout: 240_000,
  });
  return `${stdout}${stderr}`;
}

const address = () => ['--address', sys.config.temporal.address, '--namespace', sys.config.temporal.namespace];
const input = () =>
  JSON.stringify({
    data: { mode: 'generate', users: 200, products: 40, seed: 3 },
    training: { epochs: 2, evalUsers: 200 },
    gate: { tolerance: 1 },
    servingTaskQueue: sys.config.temporal.taskQueues.serving,
  });

async function resultOf(workflowId: string): Promise<RetrainAndDeployResult> {
  return (await sys.temporal.workflow.getHandle(workflowId).result()) as RetrainAndDeployResult;
}

describe('command lines of the README', () => {
  it('temporal schedule create, trigger: the scheduled run deploys', async () => {
    const scheduleId = `it-${sys.id}-schedule`;
    await run(TEMPORAL_BIN, [
      'schedule',
      'create',
      ...address(),
      '--schedule-id',
      scheduleId,
      '--interval',
      '1h',
      '--overlap-policy',
      'Skip',
      '--workflow-id',
      `it-${sys.id}-scheduled`,
      '--type',
      'retrainAndDeploy',
      '--task-queue',
      sys.config.temporal.taskQueues.training,
      '--input',
      input(),
    ]);
    try {
      await run(TEMPORAL_BIN, ['schedule', 'trigger', ...address(), '--schedule-id', scheduleId]);
      const handle = sys.temporal.schedule.getHandle(scheduleId);
      let workflowId: string | undefined;
      for (let i = 0; i < 100 && !workflowId; i++) {
        workflowId = (await handle.describe()).info.recentActions[0]?.action.workflow.workflowId;
        if (!workflowId) await new Promise((r) => setTimeout(r, 200));
      }
      expect(workflowId).toMatch(new RegExp(`^it-${sys.id}-scheduled`));
      expect(await resultOf(workflowId!)).toMatchObject({ outcome: 'deployed' });
      const described = await run(TEMPORAL_BIN, ['schedule', 'describe', ...address(), '--schedule-id', scheduleId]);
      expect(described).toMatch(/retrainAndDeploy/);
    } finally {
      await run(TEMPORAL_BIN, ['schedule', 'delete', ...address(), '--schedule-id', scheduleId]);
    }
  });

  it('temporal workflow start: a run deploys', async () => {
    const workflowId = `it-${sys.id}-cli-start`;
    await run(TEMPORAL_BIN, [
      'workflow',
      'start',
      ...address(),
      '--type',
      'retrainAndDeploy',
      '--task-queue',
      sys.config.temporal.taskQueues.training,
      '--workflow-id',
      workflowId,
      '--input',
      input(),
    ]);
    expect(await resultOf(workflowId)).toMatchObject({ outcome: 'deployed' });
  });

  it('tctl workflow start: a run deploys', async () => {
    const workflowId = `it-${sys.id}-tctl-start`;
    const out = await run(TCTL_BIN, [
      '--address',
      sys.config.temporal.address,
      '--namespace',
      sys.config.temporal.namespace,
      'workflow',
      'start',
      '--tq',
      sys.config.temporal.taskQueues.training,
      '--wt',
      'retrainAndDeploy',
      '-w',
      workflowId,
      '-i',
      input(),
      '--et',
      '3600',
    ]);
    expect(out).toMatch(/Started Workflow Id/i);
    expect(await resultOf(workflowId)).toMatchObject({ outcome: 'deployed' });
  });

  it('recommender run --wait prints a readable outcome; requests --follow-results reports every answer', async () => {
    const out = await projectCli('src/cli/main.ts', ['run', '--wait', '--id', `it-${sys.id}-run-wait`, '--input', input()]);
    expect(out).toMatch(/^outcome deployed: /m);
    expect(out).toMatch(/HR@10 \d+\.\d%, NDCG@10 0\.\d{3} \(popularity/);
    expect(out).not.toMatch(/"outcome":/); // JSON only with --json

    const report = await projectCli('src/cli/request-client.ts', [
      ...['--count', '8', '--rate', '8', '--users', '200', '--products', '40', '--seed', '5'],
      ...['--follow-results', '--wait', '60'],
    ]);
    expect(report).toMatch(/^answers: 8 of 8 answered, 0 unanswered, 0 popularity fallbacks, 0 errors, 0 dead letters, 0 duplicates$/m);
    expect(report).toMatch(/^latency \(send → result\): p50 \d+\.\d ms, p99 \d+\.\d ms, max \d+\.\d ms$/m);
    expect(report).toMatch(new RegExp(`^by model: (${sys.config.slots.map((x) => x.name).join('|')})/\\d+ 8$`, 'm'));
    // at this rate every answer is shown as it arrives, with the slot that scored it
    expect(report.match(/^ {2}answer /gm)).toHaveLength(8);
  });
});
