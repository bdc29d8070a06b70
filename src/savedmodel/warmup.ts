/**
 * The SavedModel's warm-up file, `assets.extra/tf_serving_warmup_requests`,
 * in TensorFlow Serving's format: a TFRecord file whose records are
 * `tensorflow.serving.PredictionLog`s, each a `predict_log.request` for the
 * serving_default signature. TF Serving (--enable_model_warmup) and the
 * project's slots replay them after loading a version and before reporting
 * it AVAILABLE, so the first real requests after a switch do not pay for
 * TensorFlow's lazy initialisation.
 *
 * TFRecord framing, per record: length (u64 LE), masked CRC32C of those 8
 * bytes (u32 LE), the data, masked CRC32C of the data (u32 LE).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { crc32c, maskCrc } from './checkpoint/crc32c';
import { DataType } from './messages';
import { encodeMessage } from './protos';
import { loadServingProtos } from './serving-protos';
import type { IdDtype } from './signature';
import { sha256Hex } from '../digest/sha256';
import { SIGNATURE_NAME } from './serving-contract';

export const WARMUP_DIR = 'assets.extra';
export const WARMUP_FILE = `${WARMUP_DIR}/tf_serving_warmup_requests`;
/** TF Serving reads at most this many warm-up records. */
export const MAX_WARMUP_RECORDS = 1000;
export const DEFAULT_WARMUP_RECORDS = 300;
/** The shapes real requests have: one user, 1..30 products. */
const MAX_PRODUCTS_PER_REQUEST = 30;

export interface WarmupOptions {
  userRows: number;
  productRows: number;
  idDtype: IdDtype;
  /** default DEFAULT_WARMUP_RECORDS */
  records?: number;
}

/** A TensorProto as protobufjs decodes it (longs as numbers, bytes as Buffer). */
export interface TensorProtoObject {
  dtype?: number;
  tensorShape?: { dim?: { size?: number }[]; unknownRank?: boolean };
  tensorContent?: Uint8Array;
  intVal?: number[];
  int64Val?: number[];
  floatVal?: number[];
}

/** One decoded warm-up request: the inputs of one predict call, by signature input name. */
export interface WarmupRequest {
  signatureName: string;
  inputs: Record<string, TensorProtoObject>;
}

/** Frames `records` as one TFRecord file. */
export function encodeTfRecords(records: Uint8Array[]): Buffer {
  const parts: Buffer[] = [];
  for (const data of records) {
    const header = Buffer.alloc(12);
    header.writeBigUInt64LE(BigInt(data.length), 0);
    header.writeUInt32LE(maskCrc(crc32c(header.subarray(0, 8))), 8);
    const footer = Buffer.alloc(4);
    footer.writeUInt32LE(maskCrc(crc32c(data)), 0);
    parts.push(header, Buffer.from(data.buffer, data.byteOffset, data.byteLength), footer);
  }
  return Buffer.concat(parts);
}

/** Splits a TFRecord file into its records, checking both CRCs of each; errors name the byte offset. */
export function decodeTfRecords(bytes: Buffer, file: string, maxRecords = MAX_WARMUP_RECORDS): Buffer[] {
  const records: Buffer[] = [];
  let at = 0;
  while (at < bytes.length) {
    if (records.length >= maxRecords) throw new Error(`${file}: more than ${maxRecords} records`);
    if (bytes.length - at < 12) throw new Error(`${file}: truncated record header at byte ${at}`);
    const length = bytes.readBigUInt64LE(at);
    if (bytes.readUInt32LE(at + 8) !== maskCrc(crc32c(bytes.subarray(at, at + 8)))) {
      throw new Error(`${file}: bad length checksum of the record at byte ${at}`);
    }
    if (length > BigInt(bytes.length - at - 16)) throw new Error(`${file}: record at byte ${at} runs past the end of the file`);
    const start = at + 12;
    const end = start + Number(length);
    const data = bytes.subarray(start, end);
    if (bytes.readUInt32LE(end) !== maskCrc(crc32c(data))) throw new Error(`${file}: bad data checksum of the record at byte ${at}`);
    records.push(data);
    at = end + 4;
  }
  return records;
}

/** Deterministic ids (the export is byte-reproducible): a 32-bit LCG. */
function lcg(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state;
  };
}

function idTensor(dtype: IdDtype, ids: number[]) {
  return {
    dtype: dtype === 'int64' ? DataType.DT_INT64 : DataType.DT_INT32,
    tensorShape: { dim: [{ size: ids.length }, { size: 1 }] },
    ...(dtype === 'int64' ? { int64Val: ids } : { intVal: ids }),
  };
}

/** The warm-up records: one user with 1..30 products each, ids spread over the whole tables (first and last included). */
export function warmupRecords(options: WarmupOptions): Buffer[] {
  const count = options.records ?? DEFAULT_WARMUP_RECORDS;
  if (!Number.isInteger(count) || count < 1 || count > MAX_WARMUP_RECORDS) {
    throw new Error(`warm-up records must be an integer in [1, ${MAX_WARMUP_RECORDS}], got ${count}`);
  }
  const { PredictionLog } = loadServingProtos();
  const next = lcg(0x5eed);
  const records: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const k = i === 0 ? MAX_PRODUCTS_PER_REQUEST : 1 + (next() % MAX_PRODUCTS_PER_REQUEST);
    const user = i === 0 ? 0 : i === 1 ? options.userRows - 1 : next() % options.userRows;
    const products = Array.from({ length: k }, (_, j) =>
      i === 0 && j === 0 ? 0 : i === 0 && j === 1 ? options.productRows - 1 : next() % options.productRows,
    );
    const log = {
      predictLog: {
        request: {
          modelSpec: { signatureName: SIGNATURE_NAME },
          inputs: {
            users: idTensor(
              options.idDtype,
              products.map(() => user),
            ),
            products: idTensor(options.idDtype, products),
          },
        },
      },
    };
    records.push(encodeMessage(PredictionLog, log));
  }
  return records;
}

/** Writes `<dir>/assets.extra/tf_serving_warmup_requests`; returns its manifest entry. */
export async function writeWarmupFile(dir: string, options: WarmupOptions): Promise<{ path: string; bytes: number; sha256: string }> {
  const bytes = encodeTfRecords(warmupRecords(options));
  await mkdir(path.join(dir, WARMUP_DIR), { recursive: true });
  await writeFile(path.join(dir, WARMUP_FILE), bytes, { flag: 'wx' });
  return { path: WARMUP_FILE, bytes: bytes.length, sha256: sha256Hex(bytes) };
}

/** Reads a version's warm-up file, or [] when it has none (TF Serving: warm-up is optional). */
export async function readWarmupFile(versionDir: string): Promise<WarmupRequest[]> {
  const file = path.join(versionDir, WARMUP_FILE);
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const { PredictionLog } = loadServingProtos();
  return decodeTfRecords(bytes, WARMUP_FILE).map((record, i) => {
    let log: { predictLog?: { request?: { modelSpec?: { signatureName?: string }; inputs?: Record<string, TensorProtoObject> } } };
    try {
      log = PredictionLog.toObject(PredictionLog.decode(record), { longs: Number, defaults: false }) as typeof log;
    } catch (err) {
      throw new Error(`${WARMUP_FILE}: record ${i} is not a PredictionLog: ${(err as Error).message}`);
    }
    const request = log.predictLog?.request;
    if (!request) throw new Error(`${WARMUP_FILE}: record ${i} has no predict_log.request (only Predict warm-up is supported)`);
    return { signatureName: request.modelSpec?.signatureName || SIGNATURE_NAME, inputs: request.inputs ?? {} };
  });
}
