/**
 * trainModel's work in a child process (src/training/child.ts): TensorFlow's
 * synchronous kernels and the linear family's solves would otherwise hold
 * the worker's event loop for seconds, the loop that also completes
 * workflow tasks and sends heartbeats. A child process rather than a worker
 * thread: tfjs-node's native addon is not safe to load in worker threads
 * (its docs support the main thread only), and a process can be killed
 * outright on cancellation and takes its memory with it.
 *
 * Only small messages cross the IPC channel (the store part of the
 * configuration and the input in, progress and the CandidateRef out); the
 * history and the candidate go through MinIO, as before. The child's
 * stdout/stderr are relayed, line by line, to the worker's.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import readline from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { ApplicationFailure } from '@temporalio/activity';
import { FailureType } from '../failure-types';
import { entryCommand, EXIT_WITH_PARENT_PRELOAD, REPO_ROOT } from '../process/children';
import type { CandidateRef, TrainingHeartbeat } from '../workflows/types';
import type { ActivityDeps, TrainingConfig } from './deps';
import type { TrainingReporter, TrainInput } from './train';

export const TRAINING_CHILD_ENTRY = 'src/training/child.ts';
const STARTUP_HEARTBEAT_MS = 1000;

/** parent → child: the one request */
export interface TrainRequest {
  config: TrainingConfig;
  input: TrainInput;
}

/** A failure as the child mapped it (toActivityFailure): rebuilt here so its type and retryability stay the same. */
export interface ChildFailure {
  message: string;
  name: string;
  stack?: string;
  /** set when it was an ApplicationFailure */
  application?: { type?: string; nonRetryable: boolean };
}

/** child → parent */
export type ChildMessage =
  | { kind: 'heartbeat'; detail: unknown }
  | { kind: 'epoch'; progress: TrainingHeartbeat }
  | { kind: 'done'; candidate: CandidateRef }
  | { kind: 'failed'; failure: ChildFailure };

function storeConfig(config: TrainingConfig): TrainingConfig {
  const { minio, buckets, dataPrefix, dataLimits, registryKey, slots } = config;
  return { minio, buckets, dataPrefix, dataLimits, registryKey, slots };
}

function relayLines(from: Readable | null, to: Writable, prefix: string): void {
  if (!from) return;
  readline.createInterface({ input: from, crlfDelay: Infinity }).on('line', (line) => to.write(`${prefix}${line}\n`));
}

/** Starts the child with the exit-with-parent preload: it dies with this worker, however the worker ends. */
function startChild(): ChildProcess {
  const child = spawn(process.execPath, ['--require', EXIT_WITH_PARENT_PRELOAD, ...entryCommand(TRAINING_CHILD_ENTRY)], {
    cwd: REPO_ROOT,
    env: { TF_CPP_MIN_LOG_LEVEL: '2', ...process.env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    serialization: 'advanced',
  });
  const prefix = `[training child ${child.pid ?? '?'}] `;
  relayLines(child.stdout, process.stdout, prefix);
  relayLines(child.stderr, process.stderr, prefix);
  return child;
}

export function rebuildFailure(f: ChildFailure): Error {
  if (f.application) {
    return ApplicationFailure.create({ message: f.message, type: f.application.type, nonRetryable: f.application.nonRetryable });
  }
  const error = new Error(f.message);
  error.name = f.name;
  if (f.stack) error.stack = f.stack;
  return error;
}

function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `was killed by ${signal}` : `exited with code ${code}`;
}

/**
 * Runs one training in a fresh child, relaying its progress to `report`.
 * Cancellation (report.signal) kills the child and rethrows the signal's
 * reason (the activity's CancelledFailure); a child that ends without a
 * result is a retryable TrainingProcessDied failure.
 */
export function trainInChild(deps: Pick<ActivityDeps, 'config'>, input: TrainInput, report: TrainingReporter): Promise<CandidateRef> {
  return new Promise<CandidateRef>((resolve, reject) => {
    const child = startChild();
    let settled = false;
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearInterval(starting);
      report.signal.removeEventListener('abort', onAbort);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      outcome();
    };
    const onAbort = () => settle(() => reject(report.signal.reason));
    report.signal.addEventListener('abort', onAbort);
    // until the child reports (it loads TensorFlow and reads the history first), beat for it: a short
    // heartbeat timeout must not retry a healthy start, and a cancel arrives with a heartbeat's answer
    const starting = setInterval(() => report.heartbeat(undefined), STARTUP_HEARTBEAT_MS);
    child.on('message', (m: ChildMessage) => {
      clearInterval(starting);
      if (m.kind === 'heartbeat') report.heartbeat(m.detail);
      else if (m.kind === 'epoch') report.epoch(m.progress);
      else if (m.kind === 'done') settle(() => resolve(m.candidate));
      else settle(() => reject(rebuildFailure(m.failure)));
    });
    child.on('error', (error) => settle(() => reject(error)));
    child.on('close', (code, signal) =>
      settle(() =>
        reject(
          ApplicationFailure.retryable(
            `the training child process (pid ${child.pid}) ${describeExit(code, signal)} before finishing; its output is in this worker's log, prefixed [training child ${child.pid}]`,
            FailureType.TrainingProcessDied,
          ),
        ),
      ),
    );
    const request: TrainRequest = { config: storeConfig(deps.config), input };
    child.send(request);
    if (report.signal.aborted) onAbort();
  });
}
