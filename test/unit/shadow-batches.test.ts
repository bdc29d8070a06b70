/**
 * Shadow batch records (schema 2) as the model server builds them and the
 * evaluator reads them: grouped by the partition of each customer's key
 * (kafkajs' default partitioner), kind and versions; split when large;
 * entries in order; read back entry by entry, a bad or wrong-partition
 * entry skipped and named; single records (schema 1) still read.
 */
import { Partitioners } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { decodeShadowAnswers } from '../../src/evaluation/records';
import { customerPartition } from '../../src/messaging/customer-partition';
import { decodeShadowRecord, encodeShadow, encodeShadowBatch, type ShadowBatch } from '../../src/messaging/shadow-result';
import { MAX_BATCH_BYTES, shadowBatchMessages, type PendingShadow } from '../../src/serving/model-server/shadow-batches';

const v1 = { slot: 'a', version: 1 };
const v2 = { slot: 'b', version: 2 };
const pending = (n: number, user: number, products = [3, 1, 2], servedBy = v1): PendingShadow => ({
  shadow: 'popularity',
  servedBy,
  model: servedBy,
  entry: { requestId: `mdata:0:${n}`, user, eventTime: 1000 + n, products },
});

describe('shadow batch records', () => {
  it("places a customer where kafkajs' default partitioner puts its key", () => {
    const partitioner = Partitioners.DefaultPartitioner();
    for (const partitions of [1, 2, 3, 6, 12])
      for (let user = 0; user < 500; user++) {
        const partitionMetadata = Array.from({ length: partitions }, (_, partitionId) => ({
          partitionId,
          leader: 1,
          replicas: [1],
          isr: [1],
          partitionErrorCode: 0,
        }));
        const expected = partitioner({ topic: 't', partitionMetadata, message: { key: String(user), value: null } });
        expect(customerPartition(user, partitions)).toBe(expected);
      }
  });

  it('groups by partition, kind and versions, in order, the shared fields once; each entry a customer of its record’s partition', () => {
    const shadows = Array.from({ length: 60 }, (_, n) => pending(n, n % 17, [n], n < 30 ? v1 : v2));
    const messages = shadowBatchMessages(shadows, 3, new Date(0));
    const batches = messages.map((m) => ({
      partition: m.partition!,
      key: m.key,
      batch: decodeShadowRecord(m.value as Buffer) as ShadowBatch,
    }));
    expect(batches.length).toBe(6); // 3 partitions × 2 versions
    for (const { partition, key, batch } of batches) {
      expect(batch).toMatchObject({ schema: 2, shadow: 'popularity', producedAt: new Date(0).toISOString() });
      expect(key).toBe(String(batch.entries[0].user));
      for (const e of batch.entries) expect(customerPartition(e.user, 3)).toBe(partition);
      const ns = batch.entries.map((e) => Number(e.requestId.split(':')[2]));
      expect(ns).toEqual([...ns].sort((a, b) => a - b));
      const version = ns[0] < 30 ? v1 : v2;
      expect([batch.servedBy, batch.model]).toEqual([version, version]);
      expect(ns.every((n) => n < 30 === (version === v1))).toBe(true);
    }
    expect(batches.flatMap((b) => b.batch.entries).length).toBe(60);
  });

  it('splits a large group into records under MAX_BATCH_BYTES', () => {
    const products = Array.from({ length: 100 }, (_, i) => 100_000 + i);
    const shadows = Array.from({ length: 1000 }, (_, n) => pending(n, 7, products));
    const messages = shadowBatchMessages(shadows, 1);
    expect(messages.length).toBeGreaterThan(1);
    for (const m of messages) expect((m.value as Buffer).length).toBeLessThanOrEqual(MAX_BATCH_BYTES);
    expect(messages.flatMap((m) => (decodeShadowRecord(m.value as Buffer) as ShadowBatch).entries.map((e) => e.requestId))).toEqual(
      shadows.map((s) => s.entry.requestId),
    );
  });

  it('the evaluator reads a batch entry by entry; a bad or wrong-partition entry is skipped and named by offset, index and field', () => {
    const own = [0, 1, 2, 3, 4, 5].filter((u) => customerPartition(u, 2) === 0);
    const other = [0, 1, 2, 3, 4, 5].find((u) => customerPartition(u, 2) === 1)!;
    const entry = (n: number, user: unknown, eventTime: unknown = 5, products: unknown = [4, 5]) => ({
      requestId: `r:${n}`,
      user,
      eventTime,
      products,
    });
    const batch = {
      schema: 2,
      shadow: 'previous-model',
      servedBy: v2,
      model: v1,
      producedAt: '',
      entries: [
        entry(0, own[0]),
        entry(1, other),
        entry(2, own[1], 'x'),
        entry(3, -1),
        entry(4, own[0], 6, [1, 2.5]),
        null,
        entry(6, own[1]),
      ],
    } as unknown as ShadowBatch;
    const decoded = decodeShadowAnswers(encodeShadowBatch(batch), { partition: 0, partitions: 2, offset: '41' });
    expect(decoded.answers).toEqual([
      { requestId: 'r:0', shadow: 'previous-model', eventTime: 5, top: [4, 5] },
      { requestId: 'r:6', shadow: 'previous-model', eventTime: 5, top: [4, 5] },
    ]);
    expect(decoded.invalid).toEqual([
      expect.stringMatching(
        /^shadow batch record at offset 41, entry 1: field user is not a customer of partition 0 \(its records go to 1\)/,
      ),
      expect.stringMatching(/^shadow batch record at offset 41, entry 2: field eventTime is not a number/),
      expect.stringMatching(/^shadow batch record at offset 41, entry 3: field user is not a customer id/),
      expect.stringMatching(/^shadow batch record at offset 41, entry 4: field products\[1\] is not an integer/),
      expect.stringMatching(/^shadow batch record at offset 41, entry 5: field \(entry\) is not a JSON object/),
    ]);
    const place = { partition: 0, partitions: 2, offset: '42' };
    expect(() => decodeShadowAnswers(encodeShadowBatch({ ...batch, shadow: 'oracle' } as unknown as ShadowBatch), place)).toThrow(
      /shadow batch record at offset 42: field shadow is not popularity or previous-model/,
    );
    expect(() => decodeShadowAnswers(Buffer.from('{"schema":3}'), place)).toThrow(/field schema is not 1 or 2/);
  });

  it('still reads a single record (schema 1), whatever its partition', () => {
    const single = encodeShadow({
      schema: 1,
      requestId: 'mdata:0:9',
      user: 3,
      shadow: 'popularity',
      servedBy: v1,
      model: v1,
      ranked: [{ product: 8, score: 0.5 }],
      eventTime: 7,
      producedAt: '',
    });
    expect(decodeShadowAnswers(single, { partition: 1, partitions: 4, offset: '0' })).toEqual({
      answers: [{ requestId: 'mdata:0:9', shadow: 'popularity', eventTime: 7, top: [8] }],
      invalid: [],
    });
  });
});
