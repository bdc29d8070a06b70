/**
 * Shared pieces of the fault-injection suite: a private system (test
 * slots, topics, registry) with real worker processes that can be killed,
 * a model server and a request client running throughout, and the checks
 * every case ends with (nothing lost, one descriptor per deployed version).
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { expect } from 'vitest';
import { readProgress } from '../../src/cli/run-progress';
import { sendRequests, type SendSummary } from '../../src/cli/request-client';
import { ResultsTracker } from '../../src/cli/results-tracker';
import { readDescriptors } from '../../src/messaging/model-descriptors';
import { spawnEntry, stopProcess, waitForLog, type Managed } from '../../src/process/children';
import { silentLog, startModelServer, type ModelServer } from '../../src/serving/model-server';
import type { RetrainAndDeployInput, Step } from '../../src/workflows/types';
import { startTestSystem, type TestSystem } from '../helpers/system';

export const LOG_DIR = path.resolve(__dirname, '../../artifacts/faults');

export const SMALL_RUN: RetrainAndDeployInput = {
  data: { mode: 'generate', users: 1000, products: 300, seed: 21 },
  training: { objective: 'implicit', epochs: 4, heartbeatTimeoutSeconds: 5, evalUsers: 500 },
  gate: { tolerance: 1 },
};

export class FaultRig {
  readonly processes: Managed[] = [];
  modelServer: ModelServer | undefined;
  tracker: ResultsTracker | undefined;
  private sending: Promise<SendSummary> | undefined;
  private readonly abort = new AbortController();

  constructor(readonly sys: TestSystem) {}

  static async create(options: { inProcessWorkers: boolean }): Promise<FaultRig> {
    return new FaultRig(await startTestSystem({ withWorkers: options.inProcessWorkers }));
  }

  async spawnTrainingWorker(tag: string): Promise<Managed> {
    const w = spawnEntry(`training-${this.sys.id}-${tag}`, 'src/worker.ts', [], LOG_DIR, { env: this.sys.env });
    this.processes.push(w);
    await waitForLog(w, /training worker polling/, 120_000);
    return w;
  }

  async spawnServingWorker(tag: string): Promise<Managed> {
    const w = spawnEntry(`serving-${this.sys.id}-${tag}`, 'src/serving/worker.ts', ['--no-model-server'], LOG_DIR, { env: this.sys.env });
    this.processes.push(w);
    await waitForLog(w, /serving worker polling/, 120_000);
    return w;
  }

  /** The model server (in this process) and a request client at `rate`/s, tracked to the last answer. */
  async startTraffic(rate = 20): Promise<void> {
    this.modelServer = await startModelServer({ config: this.sys.config, port: 0, groupId: `model-server-${this.sys.id}`, log: silentLog });
    this.tracker = new ResultsTracker(this.sys.kafka, this.sys.config.topics.results);
    await this.tracker.start();
    const tracker = this.tracker;
    this.sending = sendRequests({
      kafka: this.sys.kafka,
      topic: this.sys.config.topics.requests,
      rate,
      seed: 9,
      signal: this.abort.signal,
      onSent: (sent) => tracker.expect(sent),
    });
  }

  async stopTraffic(drainMs = 60_000): Promise<SendSummary | undefined> {
    this.abort.abort();
    const summary = await this.sending;
    await this.tracker?.drain(drainMs);
    return summary;
  }

  start(input: RetrainAndDeployInput = SMALL_RUN, id = `fault-${this.sys.id}-${randomUUID()}`): Promise<WorkflowHandle> {
    return this.sys.temporal.workflow.start('retrainAndDeploy', {
      taskQueue: this.sys.config.temporal.taskQueues.training,
      workflowId: id,
      args: [{ servingTaskQueue: this.sys.config.temporal.taskQueues.serving, readinessTimeoutSeconds: 60, ...input }],
    });
  }

  /** Polls the run's status until `pred` holds. */
  async waitFor(
    handle: WorkflowHandle,
    pred: (step: Step | undefined, batch: number) => boolean,
    timeoutMs = 120_000,
    everyMs = 50,
  ): Promise<void> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const p = await readProgress(handle);
      if (pred(p.status?.step, p.heartbeat?.batch ?? 0)) return;
      if (p.closed) throw new Error(`run closed (${p.temporalStatus}) before the awaited point`);
      if (Date.now() > end) throw new Error('timed out waiting for the run');
      await new Promise((r) => setTimeout(r, everyMs));
    }
  }

  /** Exactly one descriptor per deployed version, and nothing else. */
  async expectOneDescriptorPer(versions: { slot: string; version: number }[]): Promise<void> {
    const keys = (await readDescriptors(this.sys.kafka, this.sys.config.topics.models)).map((d) => d.key);
    expect(keys.sort()).toEqual(versions.map((v) => `${v.slot}/${v.version}`).sort());
  }

  async close(): Promise<void> {
    this.abort.abort();
    await this.sending?.catch(() => undefined);
    await this.tracker?.stop().catch(() => undefined);
    await this.modelServer?.close();
    for (const p of this.processes) await stopProcess(p, 5000);
    await this.sys.stop();
  }
}
