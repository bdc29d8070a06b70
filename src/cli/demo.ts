/**
 * The main job, end to end on the local stack (`npm run demo`):
 *  1. brings up Temporal, Kafka and MinIO (stack.sh), the topics and buckets;
 *  2. starts the training worker and the serving worker with both slots;
 *  3. creates a Temporal Schedule of its own (`<SCHEDULE_ID>-demo`, short
 *     interval) and triggers a run; the first run publishes the purchase
 *     history when there is none, later ones append a day;
 *  4. sends recommendation requests and shows, live, each run's steps,
 *     training progress, metrics and slot switch, and what is being served;
 *  5. after the second deployment (the switch to the other slot) it checks
 *     that every request was answered, prints where to look in the web UI,
 *     and stops everything it started and deletes its schedule (Ctrl-C does
 *     the same).
 * --keep-running leaves the stack, workers and schedule up for exploring.
 */
import path from 'node:path';
import { Command } from 'commander';
import type { Client } from '@temporalio/client';
import { loadConfig, type Config } from '../config';
import { createKafka, ensureTopics } from '../messaging/kafka';
import { REPO_ROOT, spawnEntry, stopProcess, waitForLog, type Managed } from '../process/children';
import { isUp, startStack, stopStack, STACK_COMPONENTS, type StackComponent } from '../process/local-stack';
import { ensureBuckets } from '../storage/buckets';
import { createMinioClient } from '../storage/minio-client';
import { connectClient } from '../temporal/connection';
import { numberArg } from '../arg-parsers';
import { createSchedule } from './commands/schedule';
import { Display } from './demo/display';
import { followScheduledRuns } from './demo/follow-schedule';
import { sendRequests } from './request-client';
import { ResultsTracker, type TrackerStats } from './results-tracker';
import { scheduleUrl } from './ui-links';
import { retrainAndDeploy } from '../workflows';

const positive = numberArg(0, true);

async function main(): Promise<void> {
  const o = new Command()
    .name('demo')
    .description('run the retrain-and-deploy system end to end on the local stack')
    .option('--interval <duration>', 'schedule interval', '1m')
    .option('--deployments <n>', 'stop after this many deployments', positive, 2)
    .option('--rate <perSecond>', 'recommendation requests per second', positive, 5)
    .option('--keep-running', 'leave the stack, workers and schedule running at the end')
    .parse()
    .opts<{ interval: string; deployments: number; rate: number; keepRunning?: boolean }>();

  // A schedule id of the demo's own: the user's `recommender-retrain` (and the
  // README's `schedule create`) stay untouched.
  const base = loadConfig();
  const cfg = { ...base, temporal: { ...base.temporal, scheduleId: `${base.temporal.scheduleId}-demo` } };
  const display = new Display();
  const logDir = path.join(REPO_ROOT, 'artifacts', 'demo');
  const abort = new AbortController();
  let stopping = false;
  process.on('SIGINT', () => {
    if (stopping) return;
    display.log('Ctrl-C: stopping…');
    abort.abort();
  });

  const startedByUs: StackComponent[] = STACK_COMPONENTS.filter((c) => !isUp(c));
  if (startedByUs.length) display.log(`starting the local stack: ${startedByUs.join(', ')}`);
  startStack(STACK_COMPONENTS);
  const minio = createMinioClient(cfg.minio);
  await ensureBuckets(minio, [cfg.buckets.data, cfg.buckets.models], cfg.minio.region);
  const kafka = createKafka(cfg.kafka, '-demo');
  await ensureTopics(kafka, cfg.topics);

  const children: Managed[] = [];
  const client = await connectClient(cfg.temporal);
  const tracker = new ResultsTracker(kafka, cfg.topics.results);
  let sending: Promise<unknown> = Promise.resolve();
  let ok = false;
  try {
    children.push(...(await startWorkers(display, logDir, !o.keepRunning)));

    await createSchedule(client, cfg, {
      interval: o.interval,
      catchupWindow: '1m',
      triggerNow: true,
      replace: true,
      input: JSON.stringify({ data: { mode: 'append-day' } }),
    });
    display.log(
      `schedule ${cfg.temporal.scheduleId}: every ${o.interval}, first run now — ${scheduleUrl(cfg.temporal, cfg.temporal.scheduleId)}`,
    );

    sending = (await startRequests({ kafka, topic: cfg.topics.requests, rate: o.rate, tracker, abort, display })).done;

    const ticker = setInterval(() => display.servingSummary(servingLine(tracker.stats())), 500);

    const runs = await followScheduledRuns(client, cfg, display, o.deployments, abort.signal);
    if (!abort.signal.aborted) {
      display.log('stopping the request client and waiting for the last answers…');
      abort.abort();
      await sending;
      await tracker.drain(30_000).catch((err: unknown) => display.log(`WARNING: ${(err as Error).message}`));
    }
    clearInterval(ticker);
    const s = tracker.stats();
    display.stop();
    printSummary(runs, s, cfg);
    ok = !abort.signal.aborted || runs.filter((r) => r.result?.outcome === 'deployed').length >= o.deployments;
    ok = ok && s.pending === 0 && s.errors === 0;
    if (!ok) process.exitCode = 1;
  } finally {
    stopping = true;
    abort.abort();
    await sending;
    await tracker.stop().catch(() => undefined);
    await cleanUp({ keepRunning: !!o.keepRunning, children, client, scheduleId: cfg.temporal.scheduleId, startedByUs });
    await client.connection.close();
  }
}

/** Starts the request client at `rate`, its answers followed by `tracker`; `done` settles when it stops (on abort). */
async function startRequests(r: {
  kafka: ReturnType<typeof createKafka>;
  topic: string;
  rate: number;
  tracker: ResultsTracker;
  abort: AbortController;
  display: Display;
}): Promise<{ done: Promise<unknown> }> {
  await r.tracker.start();
  const done = sendRequests({
    kafka: r.kafka,
    topic: r.topic,
    rate: r.rate,
    signal: r.abort.signal,
    onSent: (sent) => r.tracker.expect(sent),
  }).catch((err: unknown) => {
    if (!r.abort.signal.aborted) r.display.log(`request client stopped: ${(err as Error).message}`);
  });
  return { done };
}

/** The training worker and the serving worker (model server + both slots), up and polling. */
async function startWorkers(display: Display, logDir: string, exitWithParent: boolean): Promise<Managed[]> {
  display.log('starting the training worker and the serving worker (model server + slots recommender, recommender1)');
  // with --keep-running the workers must outlive the demo
  const spawnOptions = { exitWithParent };
  const training = spawnEntry('training-worker', 'src/worker.ts', [], logDir, spawnOptions);
  const serving = spawnEntry('serving-worker', 'src/serving/worker.ts', ['--with-slots', '--slot-log-dir', logDir], logDir, spawnOptions);
  await Promise.all([waitForLog(training, /training worker polling/, 120_000), waitForLog(serving, /serving worker polling/, 120_000)]);
  display.log(`workers up (logs in ${path.relative(process.cwd(), logDir)}/)`);
  return [training, serving];
}

/** The serving line the demo keeps refreshed: sent, answered, rate, latency, errors, answers by model. */
function servingLine(s: TrackerStats): string {
  const models =
    Object.entries(s.byModel)
      .map(([m, n]) => `${m}:${n}`)
      .join(' ') || 'no model yet';
  // no answer in the window yet: no latency to show (not NaN)
  const latency = Number.isFinite(s.window.p50) ? `p50 ${s.window.p50.toFixed(0)} ms p99 ${s.window.p99.toFixed(0)} ms` : 'p50 – p99 –';
  return `sent ${s.sent} · answered ${s.answered} · ${s.window.perSecond.toFixed(1)} answers/s over ${s.window.seconds} s · ${latency} · errors ${s.errors} · by model ${models}`;
}

function printSummary(runs: Awaited<ReturnType<typeof followScheduledRuns>>, s: TrackerStats, cfg: Config): void {
  console.log('\nSummary');
  for (const r of runs) console.log(`  ${r.workflowId}: ${r.result ? `${r.result.outcome} — ${r.result.reason}` : `failed — ${r.error}`}`);
  console.log(
    `  requests sent ${s.sent}, answered ${s.answered}, unanswered ${s.pending}, errors ${s.errors}, fallbacks ${s.fallbacks}, duplicates ${s.duplicates}`,
  );
  console.log(`  answers by model: ${JSON.stringify(s.byModel)}`);
  console.log(
    `  web UI: ${cfg.temporal.uiUrl}/namespaces/${cfg.temporal.namespace}/workflows?query=${encodeURIComponent(`WorkflowType="${retrainAndDeploy.name}"`)}`,
  );
}

/** Stops what the demo started (or, with --keep-running, says how to). */
async function cleanUp(c: {
  keepRunning: boolean;
  children: Managed[];
  client: Client;
  scheduleId: string;
  startedByUs: StackComponent[];
}): Promise<void> {
  const pids = c.children.map((m) => m.child.pid);
  if (c.keepRunning) {
    console.log(`\n--keep-running: workers (pids ${pids.join(', ')}), schedule ${c.scheduleId} and stack left running.`);
    console.log(
      `  stop them with: kill ${pids.join(' ')}; SCHEDULE_ID=${c.scheduleId} npm run recommender -- schedule delete; npm run stack:stop`,
    );
    for (const m of c.children) m.child.unref();
    return;
  }
  // The runs it started stay in the web UI's list; the schedule goes.
  await c.client.schedule
    .getHandle(c.scheduleId)
    .delete()
    .catch(() => undefined);
  await Promise.all(c.children.map((m) => stopProcess(m)));
  if (c.startedByUs.length) stopStack(c.startedByUs);
  console.log(
    `stopped the workers${c.startedByUs.length ? ` and ${c.startedByUs.join(', ')}` : ''} and deleted the demo's schedule ${c.scheduleId}; its runs stay in the web UI.`,
  );
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
