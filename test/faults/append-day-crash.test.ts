/**
 * Issue 24, item 10: a crash between the history's writes. The real
 * refreshData activity against the real MinIO, with the write that follows
 * the crash point failing once (as if the worker died there), then the
 * activity run again as Temporal's retry would:
 *  - while the first history is published, dying after transactions.csv
 *    must not leave a history that every later append-day refuses;
 *  - while a day is appended, dying before generation.json is updated must
 *    not append the same day again.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import type { Client } from 'minio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataActivities, dataKeys } from '../../src/activities/data';
import { loadConfig } from '../../src/config';
import { getObjectBuffer } from '../../src/storage/objects';
import type { DataRef } from '../../src/workflows/types';
import { startTestSystem, type TestSystem } from '../helpers/system';
import { removePrefix } from '../helpers/minio';

let sys: TestSystem;
beforeAll(async () => {
  sys = await startTestSystem({ withWorkers: false, slots: false });
});
afterAll(async () => {
  await sys?.stop();
});

/** The MinIO client, except that the put of `key` whose turn is `failAt` (1-based) throws, once. */
function crashingAt(client: Client, key: string, failAt: number): Client {
  let puts = 0;
  return new Proxy(client, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (prop !== 'putObject' || typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (args[1] === key && ++puts === failAt) return Promise.reject(new Error(`simulated crash before ${key} was written`));
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

const generated = { mode: 'append-day' as const, users: 200, products: 40, seed: 3 };

async function refresh(prefix: string, client: Client = sys.minio) {
  const config = loadConfig({ ...sys.env, DATA_PREFIX: prefix });
  const deps = { config, minio: client, kafka: sys.kafka };
  return (await new MockActivityEnvironment().run(dataActivities(deps).refreshData, generated)) as DataRef;
}

async function historyLines(prefix: string): Promise<string[]> {
  const keys = dataKeys({ config: loadConfig({ ...sys.env, DATA_PREFIX: prefix }) });
  return (await getObjectBuffer(sys.minio, keys.bucket, keys.transactions)).toString('utf8').trim().split('\n');
}

describe('a crash between the history writes', () => {
  it('while publishing: the next run still has a history it can append days to', async () => {
    const prefix = `it-${sys.id}-crash-publish`;
    const keys = dataKeys({ config: loadConfig({ ...sys.env, DATA_PREFIX: prefix }) });
    try {
      // the publish's last write fails: whatever was written before it must be a consistent state
      const last = [keys.users, keys.transactions, keys.generation];
      for (const key of last) {
        await removePrefix(sys.minio, keys.bucket, `${prefix}/`);
        await refresh(prefix, crashingAt(sys.minio, key, 1)).catch(() => undefined);
        await refresh(prefix); // the retry
        const day = await refresh(prefix); // and the next scheduled run appends a day
        expect(day.rows, `crash before ${key}`).toBeGreaterThan(0);
      }
    } finally {
      await removePrefix(sys.minio, keys.bucket, `${prefix}/`);
    }
  });

  it('while appending a day: the retry appends the next day, never the same one twice', async () => {
    const prefix = `it-${sys.id}-crash-append`;
    const keys = dataKeys({ config: loadConfig({ ...sys.env, DATA_PREFIX: prefix }) });
    try {
      await refresh(prefix); // base history, no day yet
      const base = (await historyLines(prefix)).length;
      await refresh(prefix); // day 1
      const day1 = (await historyLines(prefix)).slice(base);
      // day 2: transactions.csv written, then the crash before generation.json is updated
      await refresh(prefix, crashingAt(sys.minio, keys.generation, 1)).catch(() => undefined);
      await refresh(prefix); // the retry
      const lines = await historyLines(prefix);
      const days = lines.slice(base + day1.length);
      // what follows day 1 is day 2 then day 3 (or day 2 alone): never day 2 twice
      const half = days.length / 2;
      expect(Number.isInteger(half) && days.slice(0, half).join('\n') === days.slice(half).join('\n')).toBe(false);
      expect(days.slice(0, day1.length).join('\n')).not.toBe(day1.join('\n'));
    } finally {
      await removePrefix(sys.minio, keys.bucket, `${prefix}/`);
    }
  });
});
