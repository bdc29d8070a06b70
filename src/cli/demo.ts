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
import { loadConfig } from '../config';
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
import { ResultsTracker } from './results-tracker';
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
    display.log('starting the training worker and the serving worker (model server + slots recommender, recommender1)');
    // with --keep-running the workers must outlive the demo
    const spawnOptions = { exitWithParent: !o.keepRunning };
    children.push(spawnEntry('training-worker', 'src/worker.ts', [], logDir, spawnOptions));
    children.push(spawnEntry('serving-worker', 'src/serving/worker.ts', ['--with-slots', '--slot-log-dir', logDir], logDir, spawnOptions));
    await Promise.all([
      waitForLog(children[0], /training worker polling/, 120_000),
      waitForLog(children[1], /serving worker polling/, 120_000),
    ]);
    display.log(`workers up (logs in ${path.relative(process.cwd(), logDir)}/)`);

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

    await tracker.start();
    sending = sendRequests({
      kafka,
      topic: cfg.topics.requests,
      rate: o.rate,
      signal: abort.signal,
      onSent: (sent) => tracker.expect(sent),
    }).catch((err: unknown) => {
      if (!abort.signal.aborted) display.log(`request client stopped: ${(err as Error).message}`);
    });
    const ticker = setInterval(() => {
      const s = tracker.stats();
      const models =
        Object.entries(s.byModel)
          .map(([m, n]) => `${m}:${n}`)
          .join(' ') || 'no model yet';
      // no answer in the window yet: no latency to show (not NaN)
      const latency = Number.isFinite(s.window.p50) ? `p50 ${s.window.p50.toFixed(0)} ms p99 ${s.window.p99.toFixed(0)} ms` : 'p50 – p99 –';
      display.servingSummary(
        `sent ${s.sent} · answered ${s.answered} · ${s.window.perSecond.toFixed(1)} answers/s over ${s.window.seconds} s · ${latency} · errors ${s.errors} · by model ${models}`,
      );
    }, 500);

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
    console.log('\nSummary');
    for (const r of runs)
      console.log(`  ${r.workflowId}: ${r.result ? `${r.result.outcome} — ${r.result.reason}` : `failed — ${r.error}`}`);
    console.log(
      `  requests sent ${s.sent}, answered ${s.answered}, unanswered ${s.pending}, errors ${s.errors}, fallbacks ${s.fallbacks}, duplicates ${s.duplicates}`,
    );
    console.log(`  answers by model: ${JSON.stringify(s.byModel)}`);
    console.log(
      `  web UI: ${cfg.temporal.uiUrl}/namespaces/${cfg.temporal.namespace}/workflows?query=${encodeURIComponent(`WorkflowType="${retrainAndDeploy.name}"`)}`,
    );
    ok = !abort.signal.aborted || runs.filter((r) => r.result?.outcome === 'deployed').length >= o.deployments;
    ok = ok && s.pending === 0 && s.errors === 0;
    if (!ok) process.exitCode = 1;
  } finally {
    stopping = true;
    abort.abort();
    await sending;
    await tracker.stop().catch(() => undefined);
    if (o.keepRunning) {
      console.log(
        `\n--keep-running: workers (pids ${children.map((c) => c.child.pid).join(', ')}), schedule ${cfg.temporal.scheduleId} and stack left running.`,
      );
      console.log(
        `  stop them with: kill ${children.map((c) => c.child.pid).join(' ')}; SCHEDULE_ID=${cfg.temporal.scheduleId} npm run recommender -- schedule delete; npm run stack:stop`,
      );
      for (const c of children) c.child.unref();
    } else {
      // The runs it started stay in the web UI's list; the schedule goes.
      await client.schedule
        .getHandle(cfg.temporal.scheduleId)
        .delete()
        .catch(() => undefined);
      await Promise.all(children.map((c) => stopProcess(c)));
      if (startedByUs.length) stopStack(startedByUs);
      console.log(
        `stopped the workers${startedByUs.length ? ` and ${startedByUs.join(', ')}` : ''} and deleted the demo's schedule ${cfg.temporal.scheduleId}; its runs stay in the web UI.`,
      );
    }
    await client.connection.close();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
