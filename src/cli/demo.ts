/**
 * The main job, end to end on the local stack (`npm run demo`), on the
 * seed's real purchases:
 *  1. brings up Temporal, Kafka and MinIO (stack.sh), the topics and buckets;
 *  2. starts the training worker, the serving worker with both slots, the
 *     data publisher (which triggers the schedule every --retrain-after
 *     ingested purchases) and the online evaluator (with the online rollback
 *     policy on);
 *  3. publishes the first part of data/seed/transactions.csv as the starting
 *     history, creates a Temporal Schedule of its own (`<SCHEDULE_ID>-demo`,
 *     short interval) and triggers a run;
 *  4. replays the rest of the file as a live stream (src/cli/replay.ts): each
 *     purchase onto Kafka after a recommendation request for its customer,
 *     and shows, live, each run's steps, training progress, metrics and slot
 *     switch, and what is being served;
 *  5. after --deployments deployments it checks that every request was
 *     answered, prints a summary (purchases ingested, segments, each run and
 *     what triggered it), the online figures per version against both
 *     shadows and each model's offline HR@10 beside its online one, and stops
 *     everything it started and deletes its schedule and purchase topics
 *     (Ctrl-C does the same).
 * --keep-running leaves the stack, workers and schedule up for exploring.
 */
import path from 'node:path';
import { Command } from 'commander';
import type { Client } from '@temporalio/client';
import type { Config } from '../config';
import { createKafka, ensureTopics } from '../messaging/kafka';
import { REPO_ROOT, spawnEntry, waitForLog, type Managed } from '../process/children';
import { isUp, startStack, STACK_COMPONENTS, type StackComponent } from '../process/local-stack';
import { ensureBuckets } from '../storage/buckets';
import { createMinioClient } from '../storage/minio-client';
import { connectClient } from '../temporal/connection';
import { numberArg } from '../arg-parsers';
import { createSchedule } from './commands/schedule';
import { Display } from './demo/display';
import { cleanUpDemo } from './demo/cleanup';
import { followScheduledRuns } from './demo/follow-schedule';
import {
  clearDemoData,
  deleteDemoTopics,
  demoData,
  ingestedSoFar,
  publisherUp,
  segmentStore,
  spawnDataPublisher,
  startReplay,
} from './demo/real-data';
import { ResultsTracker, type TrackerStats } from './results-tracker';
import { scheduleUrl } from './ui-links';
import { retrainAndDeploy } from '../workflows';
import { evaluatorUp, offlineBesideOnline, popularityTarget, settledFigures, spawnEvaluator } from './demo/online';
import { onlineTable } from './online-table';
import { onlineStoreFor } from '../store/online-figures';
import type { Figures } from '../evaluation/figures';

const positive = numberArg(0, true);

/** The command line. */
function demoOptions(): DemoOptions {
  return (
    new Command()
      .name('demo')
      .description('run the retrain-and-deploy system end to end on the local stack')
      .option('--interval <duration>', 'schedule interval', '1m')
      .option('--deployments <n>', 'stop after this many deployments', positive, 3)
      .option('--rate <perSecond>', 'replayed purchases per second (each after a recommendation request)', positive, 50)
      .option('--start <fraction>', "the seed file's share that is the starting history", positive, 0.5)
      .option('--retrain-after <n>', 'the data publisher triggers a run after this many new purchases', positive, 1500)
      // event time runs rate × step-ms faster than the clock: a previous-model shadow scored ~1 s after its answer must stay
      // within the evaluator's grace (EVALUATOR_GRACE_MS, a minute of event time) or it is dropped as late
      .option('--step-ms <ms>', 'event time between two replayed purchases', positive, 200)
      .option('--until-replayed', 'stop once the whole stream is replayed (after the run then going), not after --deployments')
      .option('--keep-running', 'leave the stack, workers and schedule running at the end')
      .parse()
      .opts<DemoOptions>()
  );
}

async function main(): Promise<void> {
  const o = demoOptions();

  // A schedule id, data prefix and purchase topics of the demo's own: the
  // user's `recommender-retrain` (and the README's `schedule create`) and data stay untouched.
  const { cfg, env } = demoData(process.env, o.retrainAfter, new Date().toISOString().replace(/\D/g, '').slice(0, 14));
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
  await ensureTopics(kafka, { purchases: cfg.purchases.topic, dlq: cfg.purchases.dlqTopic });
  await clearDemoData(cfg, minio);

  const children: Managed[] = [];
  const client = await connectClient(cfg.temporal);
  const tracker = new ResultsTracker(kafka, cfg.topics.results);
  let sending: Promise<unknown> = Promise.resolve();
  let ok = false;
  try {
    children.push(...(await startWorkers(display, logDir, env, !o.keepRunning)));
    sending = (await startLoop({ client, cfg, o, tracker, abort, display })).done;
    // --until-replayed (bench:online): follow runs until the stream has ended
    const replayed = new AbortController();
    if (o.untilReplayed) void sending.then(() => replayed.abort());
    const following = AbortSignal.any([abort.signal, replayed.signal]);

    const ticker = setInterval(() => display.servingSummary(servingLine(tracker.stats())), 500);

    const runs = await followScheduledRuns(client, cfg, display, o.untilReplayed ? Infinity : o.deployments, following);
    if (!abort.signal.aborted) {
      display.log('stopping the replay and waiting for the last answers…');
      abort.abort();
      await sending;
      await tracker.drain(30_000).catch((err: unknown) => display.log(`WARNING: ${(err as Error).message}`));
    }
    clearInterval(ticker);
    const s = tracker.stats();
    display.log('waiting for the online evaluator to join the last purchases…');
    const online = await settledFigures(onlineStoreFor(minio, cfg), cfg.evaluator.checkpointMs, 60_000);
    display.stop();
    printSummary(runs, s, cfg, await ingestedSoFar(segmentStore(cfg, minio)));
    printOnline(runs, online);
    ok = runs.filter((r) => r.result?.outcome === 'deployed').length >= (o.untilReplayed ? 1 : o.deployments);
    ok = ok && s.pending === 0 && s.errors === 0;
    if (!ok) process.exitCode = 1;
  } finally {
    stopping = true;
    abort.abort();
    await sending;
    await tracker.stop().catch(() => undefined);
    const deleteTopics = () => deleteDemoTopics(kafka, cfg);
    await cleanUpDemo({ keepRunning: !!o.keepRunning, children, client, scheduleId: cfg.temporal.scheduleId, startedByUs, deleteTopics });
    await client.connection.close();
  }
}

interface DemoOptions {
  interval: string;
  deployments: number;
  rate: number;
  start: number;
  retrainAfter: number;
  stepMs: number;
  untilReplayed?: boolean;
  keepRunning?: boolean;
}

/**
 * The starting history, then the replayed stream (its visits followed by
 * `tracker`) and the schedule with a first run now; `done` settles when the
 * stream ends (on abort).
 */
async function startLoop(l: {
  client: Client;
  cfg: Config;
  o: DemoOptions;
  tracker: ResultsTracker;
  abort: AbortController;
  display: Display;
}): Promise<{ done: Promise<unknown> }> {
  const { cfg, o, display, abort } = l;
  await l.tracker.start();
  const replaying = await startReplay(cfg, o, { signal: abort.signal, onRequests: (sent) => l.tracker.expect(sent) });
  const sending = replaying.done.catch((err: unknown) => {
    if (!abort.signal.aborted) display.log(`replay stopped: ${(err as Error).message}`);
  });
  display.log(
    `starting history: the first ${replaying.baseLines} baskets of data/seed/transactions.csv; replaying the other ${replaying.streamLines} at ${o.rate}/s, each after a visit (a recommendation request)`,
  );
  await createSchedule(l.client, cfg, {
    interval: o.interval,
    catchupWindow: '1m',
    triggerNow: true,
    replace: true,
    input: JSON.stringify({ data: { mode: 'history' } }),
  });
  display.log(
    `schedule ${cfg.temporal.scheduleId}: every ${o.interval} and every ${o.retrainAfter} new purchases, first run now — ${scheduleUrl(cfg.temporal, cfg.temporal.scheduleId)}`,
  );
  return { done: sending };
}

/** The training worker, the serving worker (model server + both slots) and the data publisher, up and polling. */
async function startWorkers(display: Display, logDir: string, env: NodeJS.ProcessEnv, exitWithParent: boolean): Promise<Managed[]> {
  display.log(
    'starting the training worker, the serving worker (model server + slots recommender, recommender1), the data publisher and the online evaluator',
  );
  // with --keep-running the workers must outlive the demo
  const spawnOptions = { env, exitWithParent };
  const training = spawnEntry('training-worker', 'src/worker.ts', [], logDir, spawnOptions);
  const serving = spawnEntry('serving-worker', 'src/serving/worker.ts', ['--with-slots', '--slot-log-dir', logDir], logDir, spawnOptions);
  const publisher = spawnDataPublisher(env, logDir, exitWithParent);
  const evaluator = spawnEvaluator(env, logDir, exitWithParent);
  await Promise.all([
    waitForLog(training, /training worker polling/, 120_000),
    waitForLog(serving, /serving worker polling/, 120_000),
    publisherUp(publisher),
    evaluatorUp(evaluator),
  ]);
  display.log(`workers up (logs in ${path.relative(process.cwd(), logDir)}/)`);
  return [training, serving, publisher, evaluator];
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

function printSummary(
  runs: Awaited<ReturnType<typeof followScheduledRuns>>,
  s: TrackerStats,
  cfg: Config,
  ingested: { segments: number; records: bigint },
): void {
  console.log('\nSummary');
  console.log(`  purchases ingested by the data publisher: ${ingested.records} in ${ingested.segments} segments; ${runs.length} runs:`);
  for (const r of runs) {
    // a run the data trigger started says so in its reason; the others the schedule started (its clock, or the demo's first trigger)
    const by = r.result?.data?.trigger ? '' : 'started by the schedule; ';
    console.log(`  ${r.workflowId}: ${r.result ? `${r.result.outcome} — ${by}${r.result.reason}` : `failed — ${r.error}`}`);
  }
  console.log(
    `  requests sent ${s.sent}, answered ${s.answered}, unanswered ${s.pending}, errors ${s.errors}, fallbacks ${s.fallbacks}, duplicates ${s.duplicates}`,
  );
  console.log(`  answers by model: ${JSON.stringify(s.byModel)}`);
  console.log(
    `  web UI: ${cfg.temporal.uiUrl}/namespaces/${cfg.temporal.namespace}/workflows?query=${encodeURIComponent(`WorkflowType="${retrainAndDeploy.name}"`)}`,
  );
}

/** The online figures per version against both shadows, and each deployed model's offline HR@10 beside its online one. */
function printOnline(runs: Awaited<ReturnType<typeof followScheduledRuns>>, figures: Figures): void {
  console.log('\nOnline: did customers buy what each version recommended? (recommender online; docs/design.md, "Quality out")');
  console.log(onlineTable(figures));
  console.log('Offline beside online:');
  for (const line of offlineBesideOnline(runs, figures)) console.log(line);
  console.log(popularityTarget(runs, figures));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
