/**
 * The warm-up file's TFRecord framing and PredictionLog records (the
 * official Python protos parse the exporter's file in
 * test/serving/slot-grpc.test.ts); here the framing's checks on hostile
 * bytes and the records' shapes.
 */
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeTfRecords, encodeTfRecords, readWarmupFile, WARMUP_DIR, WARMUP_FILE, warmupRecords } from '../../../src/savedmodel/warmup';

const dirs: string[] = [];
afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

describe('TFRecord framing', () => {
  const records = [Buffer.from('first'), Buffer.alloc(0), Buffer.from('third record')];
  const file = encodeTfRecords(records);

  it('round-trips records, empty ones included', () => {
    expect(file.length).toBe(records.reduce((n, r) => n + 16 + r.length, 0));
    expect(decodeTfRecords(file, 'f')).toEqual(records);
  });

  it('names the byte offset of a bad length checksum, a bad data checksum and a truncated record', () => {
    const badLength = Buffer.from(file);
    badLength[21 + 8] ^= 1; // second record's length CRC (first record is 16 + 5 bytes)
    expect(() => decodeTfRecords(badLength, 'f')).toThrowError(/f: bad length checksum of the record at byte 21/);
    const badData = Buffer.from(file);
    badData[12] ^= 1; // a byte of the first record's data
    expect(() => decodeTfRecords(badData, 'f')).toThrowError(/f: bad data checksum of the record at byte 0/);
    expect(() => decodeTfRecords(file.subarray(0, file.length - 3), 'f')).toThrowError(/runs past the end of the file/);
    expect(() => decodeTfRecords(file.subarray(0, 5), 'f')).toThrowError(/truncated record header at byte 0/);
    const huge = Buffer.from(file);
    huge.writeBigUInt64LE(2n ** 62n, 0);
    expect(() => decodeTfRecords(huge, 'f')).toThrowError(/f:/);
  });

  it('refuses more records than TF Serving reads', () => {
    expect(() => decodeTfRecords(encodeTfRecords(Array.from({ length: 4 }, () => Buffer.from('x'))), 'f', 3)).toThrowError(
      /more than 3 records/,
    );
  });
});

describe('warm-up records', () => {
  it('are one user with 1..30 products each, deterministic, in PredictionLog.predict_log', async () => {
    const a = warmupRecords({ userRows: 50, productRows: 20, idDtype: 'int32' });
    expect(warmupRecords({ userRows: 50, productRows: 20, idDtype: 'int32' })).toEqual(a);
    expect(a).toHaveLength(300);
    const dir = await mkdtemp(path.join(tmpdir(), 'warmup-'));
    dirs.push(dir);
    await mkdir(path.join(dir, WARMUP_DIR));
    await writeFile(path.join(dir, WARMUP_FILE), encodeTfRecords(a));
    const requests = await readWarmupFile(dir);
    expect(requests).toHaveLength(300);
    for (const r of requests) {
      expect(r.signatureName).toBe('serving_default');
      const users = r.inputs.users.intVal!;
      const products = r.inputs.products.intVal!;
      expect(new Set(users).size).toBe(1);
      expect(users.length).toBe(products.length);
      expect(products.length).toBeGreaterThanOrEqual(1);
      expect(products.length).toBeLessThanOrEqual(30);
      expect(r.inputs.users.tensorShape!.dim!.map((d) => d.size)).toEqual([products.length, 1]);
    }
  });

  it('holds int64 ids for an int64 signature', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'warmup-'));
    dirs.push(dir);
    await mkdir(path.join(dir, WARMUP_DIR));
    await writeFile(
      path.join(dir, WARMUP_FILE),
      encodeTfRecords(warmupRecords({ userRows: 5, productRows: 5, idDtype: 'int64', records: 3 })),
    );
    const [first] = await readWarmupFile(dir);
    expect(first.inputs.users.dtype).toBe(9); // DT_INT64
    expect(first.inputs.users.int64Val!.length).toBeGreaterThan(0);
  });

  it('are absent without a file, and a record that is not a PredictionLog is named', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'warmup-'));
    dirs.push(dir);
    expect(await readWarmupFile(dir)).toEqual([]);
    await mkdir(path.join(dir, WARMUP_DIR));
    await writeFile(path.join(dir, WARMUP_FILE), encodeTfRecords([Buffer.from([0xff, 0xff, 0xff])]));
    await expect(readWarmupFile(dir)).rejects.toThrow(/record 0 is not a PredictionLog/);
  });
});
