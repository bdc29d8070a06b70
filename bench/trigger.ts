/**
 * Trigger latency benchmark (issue 22, target ≤ 60 s): the time from the
 * produce of the purchase that crosses RETRAIN_AFTER_PURCHASES to the start
 * of the run the data publisher's trigger starts under the Schedule, through
 * the real pipeline (src/ingest/main.ts as deployed: consume, segment
 * flushed by age, trigger check, Schedule trigger). Beside the ANCHOR
 * measured in the same run: a Schedule trigger called directly, timed to
 * its run's start (Temporal's own part of the latency).
 *
 *   npm run bench:trigger [-- --after 1000 --rounds 3]
 * Everything runs on a private schedule (whose runs wait on a queue no worker
 * polls, and are terminated), topics and data prefix, removed afterwards.
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import { Command } from 'commander';
import { Partitioners, type Producer } from 'kafkajs';
import { integerArg } from '../src/arg-parsers';
import { loadConfig } from '../src/config';
import { createKafka, ensureTopics } from '../src/messaging/kafka';
import { encodePurchase } from '../src/messaging/schemas';
import { spawnEntry, stopProcess, waitForLog } from '../src/process/children';
import { createMinioClient } from '../src/storage/minio-client';
import { listKeys, removeKeys } from '../src/storage/objects';
import { chainEnd, listSegments, type SegmentStore } from '../src/store/segments';
import { connectClient } from '../src/temporal/connection';

const LOG_DIR = path.join(os.tmpdir(), 'bench-trigger');
const id = randomUUID().slice(0, 8);
const env: NodeJS.ProcessEnv = {
  ...process.env,
  SCHEDULE_ID: `bench-trigger-${id}`,
  DATA_PREFIX: `bench-trigger-${id}`,
  TOPIC_PURCHASES: `purchases-bench-trigger-${id}`,
  TOPIC_PURCHASES_DLQ: `purchases-bench-trigger-${id}-dlq`,
  PURCHASES_GROUP: `publisher-bench-trigger-${id}`,
};
const cfg = loadConfig(env);
const minio = createMinioClient(cfg.minio);
const store: SegmentStore = { client: minio, bucket: cfg.buckets.data, dataPrefix: cfg.dataPrefix, topic: cfg.purchases.topic };

/** A Schedule whose clock never fires during the bench; its runs wait on a queue no worker polls. */
async function createSchedule(client: Client): Promise<void> {
  await client.schedule.create({
    scheduleId: cfg.temporal.scheduleId,
    spec: { intervals: [{ every: '365d' }] },
    action: { type: 'startWorkflow', workflowType: 'retrainAndDeploy', taskQueue: `bench-trigger-${id}`, args: [{}] },
    policies: { overlap: ScheduleOverlapPolicy.SKIP },
  });
}

/** Waits for a run of the schedule not in `seen`; its start time (epoch ms). Terminates it (the next crossing waits for no run). */
async function nextRunStart(client: Client, seen: Set<string>, timeoutMs: number): Promise<number> {
  const handle = client.schedule.getHandle(cfg.temporal.scheduleId);
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const info = (await handle.describe()).info;
    const run = [...info.recentActions.map((a) => a.action.workflow), ...info.runningActions.map((a) => a.workflow)].find(
      (w) => !seen.has(w.firstExecutionRunId),
    );
    if (run) {
      seen.add(run.firstExecutionRunId);
      const wf = client.workflow.getHandle(run.workflowId, run.firstExecutionRunId);
      const started = (await wf.describe()).startTime.getTime();
      await wf.terminate('bench: timed').catch(() => undefined);
      return started;
    }
    await sleep(50);
  }
  throw new Error(`no run of ${cfg.temporal.scheduleId} within ${timeoutMs} ms`);
}

let sent = 0;
async function produce(producer: Producer, n: number): Promise<number> {
  const messages = Array.from({ length: n }, () => {
    const i = sent++;
    return { key: String(i % 1000), value: encodePurchase({ user: i % 1000, products: [1 + (i % 50)], timeMs: Date.now(), id: `t-${i}` }) };
  });
  const t0 = Date.now();
  await producer.send({ topic: cfg.purchases.topic, acks: -1, messages });
  return t0;
}

async function ingested(): Promise<bigint> {
  return chainEnd(store, await listSegments(store, 0));
}

async function main(): Promise<void> {
  const o = new Command()
    .option('--after <n>', 'RETRAIN_AFTER_PURCHASES', integerArg(2), 1000)
    .option('--rounds <n>', 'crossings timed', integerArg(1, 20), 3)
    .parse()
    .opts<{ after: number; rounds: number }>();
  const kafka = createKafka(cfg.kafka, `-bench-trigger-${id}`);
  await ensureTopics(kafka, { purchases: cfg.purchases.topic, dlq: cfg.purchases.dlqTopic }, 1);
  const client = await connectClient(cfg.temporal);
  await createSchedule(client);
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const pubEnv = { ...env, RETRAIN_AFTER_PURCHASES: String(o.after) };
  const publisher = spawnEntry(`data-publisher-${id}`, 'src/ingest/main.ts', ['--port', '0'], LOG_DIR, { env: pubEnv });
  const seen = new Set<string>();
  const latencies: number[] = [];
  const anchors: number[] = [];
  try {
    await waitForLog(publisher, /data publisher consuming/, 120_000);
    for (let r = 1; r <= o.rounds; r++) {
      // anchor: the Schedule triggered directly
      const a0 = Date.now();
      await client.schedule.getHandle(cfg.temporal.scheduleId).trigger(ScheduleOverlapPolicy.SKIP);
      anchors.push((await nextRunStart(client, seen, 60_000)) - a0);
      // one short of the crossing, all ingested (and past a trigger check), then the crossing purchase
      await produce(producer, o.after - 1);
      while ((await ingested()) < BigInt(r * o.after - 1)) await sleep(200);
      await sleep(6_000);
      const t0 = await produce(producer, 1);
      latencies.push((await nextRunStart(client, seen, 120_000)) - t0);
      console.log(
        `round ${r}: produce → run start ${(latencies.at(-1)! / 1000).toFixed(2)} s; anchor (trigger → run start) ${anchors.at(-1)} ms`,
      );
    }
  } finally {
    await stopProcess(publisher, 10_000);
    await producer.disconnect();
    await cleanUp(client, kafka);
  }
  report(latencies, anchors, o.after);
}

function report(latencies: number[], anchors: number[], after: number): void {
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const worst = Math.max(...latencies);
  console.log(`RETRAIN_AFTER_PURCHASES=${after}, SEGMENT_MAX_AGE_MS=${cfg.purchases.segment.maxAgeMs}, ${latencies.length} crossings`);
  console.log(
    `trigger latency (crossing purchase produced → run started): median ${(median(latencies) / 1000).toFixed(2)} s, worst ${(worst / 1000).toFixed(2)} s (target ≤ 60 s: ${worst <= 60_000 ? 'met' : 'MISSED'})`,
  );
  console.log(
    `anchor (Schedule trigger called directly → run started): median ${median(anchors)} ms; latency / anchor ${(median(latencies) / Math.max(1, median(anchors))).toFixed(1)}×`,
  );
}

async function cleanUp(client: Client, kafka: ReturnType<typeof createKafka>): Promise<void> {
  await client.schedule
    .getHandle(cfg.temporal.scheduleId)
    .delete()
    .catch(() => undefined);
  await client.connection.close();
  await removeKeys(minio, store.bucket, await listKeys(minio, store.bucket, `${cfg.dataPrefix}/`));
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [cfg.purchases.topic, cfg.purchases.dlqTopic] }).catch(() => undefined);
  await admin.disconnect();
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
