/**
 * Where a popularity shadow's CPU goes (issue 23's p99 target): this
 * process's CPU (process.cpuUsage, user + system) per served answer for
 * each step of the shadow path — building the record, its JSON, and the
 * kafkajs produce (encoding, send, acks from all replicas) on the real local
 * broker — one record per answer (schema 1, the anchor) beside batch
 * records (schema 2, src/serving/model-server/shadow-batches.ts), the two
 * alternating in the same run.
 *   npm run bench:shadow-records -- [--answers 6000] [--chunk 20] [--rounds 5] [--partitions 1]
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { Partitioners, type Message } from 'kafkajs';
import { DEFAULT_SHAPE, randomRequest } from '../src/cli/request-client';
import { loadConfig } from '../src/config';
import { createKafka, ensureTopics } from '../src/messaging/kafka';
import { Random } from '../src/ml/random';
import { topByPopularity } from '../src/serving/model-server/ranking';
import { shadowBatchMessages } from '../src/serving/model-server/shadow-batches';
import { popularityShadowOf, shadowMessage, shadowRecord, type ShadowSubject } from '../src/serving/model-server/shadows';

const { values: cli } = parseArgs({
  options: {
    answers: { type: 'string', default: '6000' },
    chunk: { type: 'string', default: '20' },
    rounds: { type: 'string', default: '5' },
    partitions: { type: 'string', default: '1' },
  },
});

const cpuMicros = (since: NodeJS.CpuUsage): number => {
  const d = process.cpuUsage(since);
  return d.user + d.system;
};

function subjects(n: number): ShadowSubject[] {
  const rng = new Random(7);
  return Array.from({ length: n }, (_, i) => {
    const request = randomRequest(rng, DEFAULT_SHAPE);
    return {
      requestId: `mdata:0:${i}`,
      user: request.user,
      eventTime: 1_790_000_000_000 + i,
      servedBy: { slot: 'recommender', version: 1 },
      products: request.products,
      length: request.products.length,
    };
  });
}

type Steps = { build: number; encode: number; produce: number; records: number; bytes: number };
type Form = 'one record per answer' | 'batch records';

/** One round of every answer in chunks of `chunk`: built, encoded, produced; this process's CPU per step. */
async function round(
  form: Form,
  all: ShadowSubject[],
  order: number[],
  chunk: number,
  send: (m: Message[]) => Promise<void>,
  partitions: number,
): Promise<Steps> {
  const s: Steps = { build: 0, encode: 0, produce: 0, records: 0, bytes: 0 };
  for (let from = 0; from < all.length; from += chunk) {
    const subjects = all.slice(from, from + chunk);
    let t = process.cpuUsage();
    const now = new Date();
    let messages: Message[];
    if (form === 'batch records') {
      const pending = subjects.map((subject) => popularityShadowOf(subject, order));
      s.build += cpuMicros(t);
      t = process.cpuUsage();
      messages = shadowBatchMessages(pending, partitions, now);
    } else {
      const records = subjects.map((x) => shadowRecord(x, 'popularity', x.servedBy, topByPopularity(x.products, order, x.length), now));
      s.build += cpuMicros(t);
      t = process.cpuUsage();
      messages = records.map(shadowMessage);
    }
    s.encode += cpuMicros(t);
    t = process.cpuUsage();
    await send(messages);
    s.produce += cpuMicros(t);
    s.records += messages.length;
    for (const m of messages) s.bytes += (m.value as Buffer).length;
  }
  return s;
}

async function main(): Promise<void> {
  const answers = Number(cli.answers);
  const chunk = Number(cli.chunk);
  const partitions = Number(cli.partitions);
  const cfg = loadConfig();
  const kafka = createKafka(cfg.kafka, '-bench-shadow-records');
  const topic = `bench-shadow-records-${randomUUID().slice(0, 8)}`;
  await ensureTopics(kafka, { topic }, partitions);
  const producer = kafka.producer({ maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const send = (messages: Message[]) => producer.sendBatch({ acks: -1, topicMessages: [{ topic, messages }] }).then(() => undefined);
  const all = subjects(answers);
  const order = new Random(3).shuffle(Array.from({ length: DEFAULT_SHAPE.products }, (_, i) => i));
  const forms: Form[] = ['one record per answer', 'batch records'];
  const totals = new Map<Form, number[]>(forms.map((f) => [f, []]));
  console.log(
    `${answers} answers (1–30 products each) in chunks of ${chunk}, a topic of ${partitions} partition(s); load average ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  try {
    for (const form of forms) await round(form, all, order, chunk, send, partitions); // warm-up
    for (let r = 0; r < Number(cli.rounds); r++) {
      for (const form of r % 2 === 0 ? forms : [...forms].reverse()) {
        const s = await round(form, all, order, chunk, send, partitions);
        const us = (v: number) => (v / answers).toFixed(1).padStart(5);
        totals.get(form)!.push((s.build + s.encode + s.produce) / answers);
        console.log(
          `${form.padEnd(22)} build ${us(s.build)} µs, encode ${us(s.encode)} µs, produce ${us(s.produce)} µs per answer (total ${us(s.build + s.encode + s.produce)}); ${s.records} records, ${(s.bytes / answers).toFixed(0)} B per answer`,
        );
      }
    }
    const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
    const [anchor, batched] = forms.map((f) => median(totals.get(f)!));
    console.log(
      `median CPU per answer: batch records ${batched.toFixed(1)} µs vs ${anchor.toFixed(1)} µs one record per answer (anchor): ${(batched / anchor).toFixed(2)}×`,
    );
  } finally {
    await producer.disconnect();
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  }
}

void main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
