/**
 * refreshData's default mode on the real MinIO: the vendored seed as the
 * base, then the ingested purchases, compacted into a new immutable history
 * whose key and digest the run carries; nothing new ingested, nothing rewritten.
 */
import { createHash } from 'node:crypto';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { dataActivities } from '../../src/activities/data';
import type { ActivityDeps } from '../../src/activities/deps';
import { loadConfig } from '../../src/config';
import { createKafka } from '../../src/messaging/kafka';
import { createMinioClient } from '../../src/storage/minio-client';
import { getObjectBuffer } from '../../src/storage/objects';
import { formatSegmentLine, SEGMENT_HEADER, writeSegment } from '../../src/store/segments';
import { writePendingTrigger } from '../../src/store/trigger-record';
import type { DataRef } from '../../src/workflows/types';
import { removePrefix } from '../helpers/minio';
import { SEED_LINES } from '../ingest/harness';

const id = Math.random().toString(36).slice(2, 10);
const config = loadConfig({ ...process.env, DATA_PREFIX: `refresh-it-${id}`, TOPIC_PURCHASES: `purchases-refresh-${id}` });
const minio = createMinioClient(config.minio);
const deps: ActivityDeps = { config, minio, kafka: createKafka(config.kafka) };
const store = { client: minio, bucket: config.buckets.data, dataPrefix: config.dataPrefix, topic: config.purchases.topic };
const refresh = (): Promise<DataRef> => new MockActivityEnvironment().run(dataActivities(deps).refreshData, {}) as Promise<DataRef>;

afterAll(() => removePrefix(minio, config.buckets.data, `${config.dataPrefix}/`));

describe("refreshData, mode 'history' (the default)", () => {
  it('the seed, then the ingested purchases in event-time order; the same inputs give the same history', async () => {
    const bought = [
      { user: 1500, products: [3, 3], timeMs: 2_000, offset: 0n, id: 'a' },
      { user: 7, products: [42], timeMs: 1_000, offset: 1n, id: 'b' },
    ];
    await writeSegment(store, 0, 0n, 2n, Buffer.from(SEGMENT_HEADER + '\n' + bought.map(formatSegmentLine).join('')));
    const first = await refresh();
    expect(first.transactionsKey).toMatch(new RegExp(`^${config.dataPrefix}/histories/[0-9a-f]{64}\\.csv$`));
    expect(first.ingested).toEqual({ purchases: 2, segments: 1 });
    expect(first.rows).toBe(SEED_LINES.length - 1 + 2);
    const bytes = await getObjectBuffer(minio, first.bucket, first.transactionsKey);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(first.sha256);
    expect(bytes.toString('utf8').trimEnd().split('\n')).toEqual([...SEED_LINES, '7,42', '1500,3|3']);

    const again = await refresh();
    expect(again).toEqual(first);

    await writeSegment(store, 0, 3n, 3n, Buffer.from(`${SEGMENT_HEADER}\n`)); // a range of dead letters only
    await writeSegment(
      store,
      1,
      0n,
      0n,
      Buffer.from(SEGMENT_HEADER + '\n' + formatSegmentLine({ ...bought[1], offset: 0n, id: 'c', timeMs: 1_500 })),
    );
    const third = await refresh();
    expect(third.transactionsKey).not.toBe(first.transactionsKey);
    expect(third.ingested).toEqual({ purchases: 3, segments: 3 });
    const lines = (await getObjectBuffer(minio, third.bucket, third.transactionsKey)).toString('utf8').trimEnd().split('\n');
    expect(lines.slice(-3)).toEqual(['7,42', '7,42', '1500,3|3']);
  });

  it('a run the data trigger started says so (its reason); another run does not', async () => {
    const where = { client: minio, bucket: config.buckets.data, dataPrefix: config.dataPrefix };
    await writePendingTrigger(where, { text: '1,500 new purchases since version 7', records: '1500', writtenAt: new Date().toISOString() });
    const run = (runId: string): Promise<DataRef> =>
      new MockActivityEnvironment({
        workflowExecution: { workflowId: 'retrain', runId },
        scheduledTimestampMs: Date.now(),
      }).run(dataActivities(deps).refreshData, {}) as Promise<DataRef>;
    expect((await run('data-run')).trigger).toBe('1,500 new purchases since version 7');
    expect((await run('data-run')).trigger).toBe('1,500 new purchases since version 7'); // the activity retried
    expect((await run('clock-run')).trigger).toBeUndefined();
  });
});
