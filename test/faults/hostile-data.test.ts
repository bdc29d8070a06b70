/**
 * Issue 24, item 6: a crafted transactions.csv in the data bucket. The real
 * refreshData activity reads it from the real MinIO (in the SDK's activity
 * test environment):
 *  - a line longer than the cap is a bad line, reported by its number (a
 *    512 MiB line without a newline used to end the worker in a RangeError);
 *  - a tiny file with one absurd id (`16777215,16777215`, 38 bytes) fails at
 *    once with a non-retryable error naming the line, instead of sizing
 *    tables of 16.7 M rows;
 *  - ids above the configured limit (DATA_MAX_USER_ID) are bad lines.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataActivities, dataKeys } from '../../src/activities/data';
import { loadConfig } from '../../src/config';
import type { DataRef } from '../../src/workflows/types';
import { startTestSystem, type TestSystem } from '../helpers/system';

let sys: TestSystem;
beforeAll(async () => {
  sys = await startTestSystem({ withWorkers: false, slots: false });
});
afterAll(async () => {
  await sys?.stop();
});

const GOOD = ['customerId,products', '0,1|2|3', '1,2|3', '2,1|4', '3,4|5|1'];

async function refreshWith(csv: string, env: NodeJS.ProcessEnv = {}): Promise<DataRef> {
  const config = loadConfig({ ...sys.env, ...env });
  const deps = { config, minio: sys.minio, kafka: sys.kafka };
  const keys = dataKeys(deps);
  await sys.minio.putObject(keys.bucket, keys.transactions, Buffer.from(csv));
  return (await new MockActivityEnvironment().run(dataActivities(deps).refreshData, { mode: 'existing' as const })) as DataRef;
}

describe('crafted purchase history in the data bucket', () => {
  it('reports a line over the length cap as a bad line by its number, and reads the rest', async () => {
    // a 2 MiB basket: parseable, but over the 1 MiB cap
    const long = `4,${'1|'.repeat(1024 * 1024)}1`;
    const ref = await refreshWith([...GOOD.slice(0, 3), long, ...GOOD.slice(3)].join('\n') + '\n');
    expect(ref.badLines).toBe(1);
    expect(ref.badLineSamples[0]).toMatch(/^line 4: line of 2097155 bytes is longer than the limit of 1048576 bytes/);
    expect(ref.rows).toBe(4);
  });

  it('fails at once, not retryable, naming the line, when one id would size absurd tables', async () => {
    const err = await refreshWith('customerId,products\n16777215,16777215\n').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect((err as ApplicationFailure).nonRetryable).toBe(true);
    expect((err as ApplicationFailure).type).toBe('BadInputError');
    expect((err as Error).message).toMatch(/transactions\.csv: line 2: customer id 16777215 would size a table of 16777216 rows/);
  });

  it('names the line of a sparse product id among otherwise dense data', async () => {
    const err = await refreshWith([...GOOD, '4,9000000', '5,1'].join('\n')).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/line 6: product id 9000000 would size a table of 9000001 rows/);
  });

  it('treats ids above the configured limit as bad lines', async () => {
    const ref = await refreshWith([...GOOD, '5000,1'].join('\n'), { DATA_MAX_USER_ID: '1000' });
    expect(ref.badLines).toBe(1);
    expect(ref.badLineSamples[0]).toMatch(/^line 6: customerId "5000" exceeds the largest accepted id 1000/);
  });
});
