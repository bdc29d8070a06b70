/**
 * The demo's clean-up order (src/cli/demo/cleanup.ts): its topics are
 * deleted while the broker is up, after the workers stopped and before the
 * stack components it started stop. (The other order left a kafkajs admin
 * retrying a stopped broker for ~80 s, logging errors, on a fresh clone.)
 */
import type { Client } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { cleanUpDemo, type CleanUpSteps } from '../../src/cli/demo/cleanup';
import type { Managed } from '../../src/process/children';

function rig(): { steps: CleanUpSteps; order: string[]; worker: Managed } {
  const order: string[] = [];
  const worker = { name: 'w', child: { pid: 42, unref: () => order.push('unref') } } as unknown as Managed;
  const steps: CleanUpSteps = {
    deleteSchedule: async () => void order.push('schedule'),
    stopProcess: async () => void order.push('worker'),
    stopStack: (c) => void order.push(`stack:${c.join(',')}`),
    log: () => undefined,
  };
  return { steps, order, worker };
}

describe('demo clean-up', () => {
  it('deletes its topics after the workers stop and before the stack it started stops', async () => {
    const { steps, order, worker } = rig();
    const deleteTopics = async () => void order.push('topics');
    const base = { client: {} as Client, scheduleId: 's', children: [worker], deleteTopics };
    await cleanUpDemo({ ...base, keepRunning: false, startedByUs: ['minio', 'kafka'] }, steps);
    expect(order).toEqual(['schedule', 'worker', 'topics', 'stack:minio,kafka']);
  });

  it('a failed topic deletion still stops the stack; --keep-running stops and deletes nothing', async () => {
    const failing = rig();
    const deleteTopics = async () => {
      failing.order.push('topics');
      throw new Error('broker gone');
    };
    const base = { client: {} as Client, scheduleId: 's', children: [failing.worker], deleteTopics };
    await cleanUpDemo({ ...base, keepRunning: false, startedByUs: ['kafka'] }, failing.steps);
    expect(failing.order).toEqual(['schedule', 'worker', 'topics', 'stack:kafka']);
    const kept = rig();
    await cleanUpDemo({ ...base, children: [kept.worker], keepRunning: true, startedByUs: ['kafka'] }, kept.steps);
    expect(kept.order).toEqual(['unref']);
  });
});
