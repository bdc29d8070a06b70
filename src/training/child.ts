/**
 * The training child (started by src/activities/train-in-child.ts, never by
 * hand): takes one TrainRequest over IPC, trains with its own MinIO client
 * (history in, candidate out), sends progress and the result back, exits.
 * The exit-with-parent preload ends it when the worker goes; a cancelled
 * activity SIGKILLs it.
 */
import { ApplicationFailure } from '@temporalio/activity';
import { trainCandidate } from '../activities/train';
import type { ChildFailure, ChildMessage, TrainRequest } from '../activities/train-in-child';
import { createMinioClient } from '../storage/minio-client';

function send(message: ChildMessage): Promise<void> {
  return new Promise((resolve, reject) => process.send!(message, undefined, {}, (error) => (error ? reject(error) : resolve())));
}

function describeFailure(error: unknown): ChildFailure {
  if (error instanceof ApplicationFailure) {
    return {
      message: error.message,
      name: error.name,
      application: { ...(error.type && { type: error.type }), nonRetryable: error.nonRetryable === true },
    };
  }
  const e = error instanceof Error ? error : new Error(String(error));
  return { message: e.message, name: e.name, ...(e.stack !== undefined && { stack: e.stack }) };
}

async function train(request: TrainRequest): Promise<ChildMessage> {
  const deps = { config: request.config, minio: createMinioClient(request.config.minio) };
  // the parent kills this process to cancel: nothing here aborts
  const signal = new AbortController().signal;
  try {
    const candidate = await trainCandidate(deps, request.input, {
      heartbeat: (detail) => void send({ kind: 'heartbeat', detail }).catch(() => undefined),
      epoch: (progress) => void send({ kind: 'epoch', progress }).catch(() => undefined),
      signal,
    });
    return { kind: 'done', candidate };
  } catch (error) {
    return { kind: 'failed', failure: describeFailure(error) };
  }
}

if (!process.send) {
  console.error('src/training/child.ts is started by the training worker (train-in-child.ts), with an IPC channel');
  process.exit(2);
}
// exit-with-parent.cjs unref'd the channel; until the request is answered it must keep this process alive
process.channel?.ref();
process.once('message', (request: TrainRequest) => {
  train(request)
    .then(send)
    .then(
      () => process.exit(0),
      (error: unknown) => {
        console.error('training child: could not send the result:', error);
        process.exit(1);
      },
    );
});
