import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { NativeConnection, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config';
import { connectClient } from '../../src/temporal/connection';
import type { Client } from '@temporalio/client';

const cfg = loadConfig();

describe('Temporal dev server', () => {
  let client: Client;
  beforeAll(async () => {
    client = await connectClient(cfg.temporal);
  });
  afterAll(async () => {
    await client.connection.close();
  });

  it('runs a workflow and its activity on a real worker', async () => {
    const taskQueue = `stack-test-${randomUUID()}`;
    const connection = await NativeConnection.connect({ address: cfg.temporal.address });
    const worker = await Worker.create({
      connection,
      namespace: cfg.temporal.namespace,
      taskQueue,
      workflowsPath: path.join(__dirname, 'fixtures', 'echo-workflow.ts'),
      activities: { shout: async (text: string) => text.toUpperCase() },
    });
    const result = await worker.runUntil(
      client.workflow.execute('echo', { taskQueue, workflowId: `echo-${randomUUID()}`, args: ['hello temporal'] }),
    );
    await connection.close();
    expect(result).toBe('HELLO TEMPORAL');
  });

  it('has the custom search attributes of the workflow registered', async () => {
    const { customAttributes } = await client.connection.operatorService.listSearchAttributes({
      namespace: cfg.temporal.namespace,
    });
    expect(Object.keys(customAttributes)).toEqual(
      expect.arrayContaining(['RecommenderModelVersion', 'RecommenderSlot', 'RecommenderHitRate10', 'RecommenderOutcome']),
    );
  });
});
