import { Readable } from 'node:stream';
import { generatePurchaseHistory, readPurchases, type GenerateOptions, type PurchaseHistory } from '../../src/ml';

/** A byte stream of the given text, split into small chunks to exercise line reassembly. */
export function textStream(text: string, chunkSize = 7): Readable {
  const chunks: Buffer[] = [];
  const bytes = Buffer.from(text);
  for (let i = 0; i < bytes.length; i += chunkSize) chunks.push(bytes.subarray(i, i + chunkSize));
  return Readable.from(chunks, { objectMode: false });
}

export async function streamToBuffer(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(parts);
}

export async function generatedHistory(options: GenerateOptions): Promise<PurchaseHistory> {
  const data = generatePurchaseHistory(options);
  return readPurchases(data.transactions, { source: `generated:${JSON.stringify(options)}` });
}

/** The (product, count) pairs of one customer, for readable assertions. */
export function pairsOf(history: PurchaseHistory, user: number): [number, number][] {
  const out: [number, number][] = [];
  for (let i = history.userOffsets[user]; i < history.userOffsets[user + 1]; i++) out.push([history.products[i], history.counts[i]]);
  return out;
}
