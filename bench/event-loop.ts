/**
 * Event-loop delay of the training worker's process during one training
 * (npm run bench:event-loop → tsx bench/event-loop.ts).
 *
 * This process stands in for the training worker: it hosts the real
 * trainModel activity (in the SDK's activity environment) against the local
 * stack's MinIO, on the vendored seed data (published under a private data
 * prefix by the real refreshData), with the default objective (linear).
 * perf_hooks.monitorEventLoopDelay samples this process's loop while the
 * activity runs, once as the worker runs it (training in a child process)
 * and once on the old in-process path (the anchor, same run, same data);
 * it prints p50/p99/max of each and the ratio. Target: p99 ≤ 50 ms.
 *   npm run bench:event-loop -- [--runs N] [--objective linear|implicit|seed]
 */
import { randomUUID } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { dataActivities } from '../src/activities/data';
import type { ActivityDeps } from '../src/activities/deps';
import { trainActivities, trainModelInProcess, type TrainInput } from '../src/activities/train';
import { loadConfig } from '../src/config';
import { createKafka } from '../src/messaging/kafka';
import { ensureBuckets } from '../src/storage/buckets';
import { createMinioClient } from '../src/storage/minio-client';
import { listKeys, removeKeys } from '../src/storage/objects';
import type { CandidateRef, DataRef, Objective } from '../src/workflows/types';

const TARGET_P99_MS = 50;
const environment = () => new MockActivityEnvironment(undefined, { logger: new DefaultLogger('WARN') });

const { values: cli } = parseArgs({
  options: {
    runs: { type: 'string', default: '1' },
    objective: { type: 'string' },
  },
});

interface Measured {
  path: string;
  seconds: number;
  /** heartbeats the activity sent (relayed from the child on the new path) */
  heartbeats: number;
  p50: number;
  p99: number;
  max: number;
}

type Train = (input: TrainInput) => Promise<CandidateRef>;

async function measure(pathName: string, train: Train, input: TrainInput): Promise<Measured> {
  // 10 ms sampling: the histogram's floor is the resolution, so p50 reads ~10 ms on an idle loop
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  const started = performance.now();
  const env = environment();
  let heartbeats = 0;
  env.on('heartbeat', () => heartbeats++);
  histogram.enable();
  try {
    await env.run(train, input);
  } finally {
    histogram.disable();
  }
  const ms = (ns: number) => ns / 1e6;
  return {
    path: pathName,
    seconds: (performance.now() - started) / 1000,
    heartbeats,
    p50: ms(histogram.percentile(50)),
    p99: ms(histogram.percentile(99)),
    max: ms(histogram.max),
  };
}

function row(m: Measured): string {
  return `${m.path.padEnd(28)} ${m.seconds.toFixed(1).padStart(7)} s  ${String(m.heartbeats).padStart(4)} heartbeats   p50 ${m.p50.toFixed(1).padStart(7)} ms   p99 ${m.p99.toFixed(1).padStart(7)} ms   max ${m.max.toFixed(1).padStart(7)} ms`;
}

async function removePrefix(deps: ActivityDeps, bucket: string, prefix: string): Promise<void> {
  await removeKeys(deps.minio, bucket, await listKeys(deps.minio, bucket, prefix));
}

async function main(): Promise<void> {
  const id = `bench-el-${randomUUID().slice(0, 8)}`;
  const config = loadConfig({ ...process.env, DATA_PREFIX: id, REGISTRY_KEY: `${id}/deployments.json` });
  const minio = createMinioClient(config.minio);
  const deps: ActivityDeps = { config, minio, kafka: createKafka(config.kafka, '-bench') };
  await ensureBuckets(minio, [config.buckets.data, config.buckets.models], config.minio.region);
  const objective = cli.objective as Objective | undefined;
  try {
    const data = (await environment().run(dataActivities(deps).refreshData, {})) as DataRef;
    console.log(
      `data: the vendored seed history (${data.rows.toLocaleString()} baskets) at ${data.bucket}/${data.transactionsKey}; objective ${objective ?? 'linear (default)'}; ${cli.runs} run(s) of each path, alternating`,
    );
    const results: Measured[][] = [[], []];
    for (let run = 1; run <= Number(cli.runs); run++) {
      const input = (p: string): TrainInput => ({
        data,
        options: objective ? { objective } : {},
        candidatePrefix: `candidates/${id}/${p}-${run}`,
      });
      results[0]!.push(await measure('in-process (old, anchor)', (i) => trainModelInProcess(deps, i), input('in-process')));
      console.log(row(results[0]!.at(-1)!));
      results[1]!.push(await measure('child process (trainModel)', trainActivities(deps).trainModel, input('child')));
      console.log(row(results[1]!.at(-1)!));
    }
    const worst = (ms: Measured[], k: 'p99' | 'max') => Math.max(...ms.map((m) => m[k]));
    const [anchor, child] = [worst(results[0]!, 'p99'), worst(results[1]!, 'p99')];
    console.log(
      `\nworst p99: child ${child.toFixed(1)} ms vs in-process ${anchor.toFixed(1)} ms (ratio ${(child / anchor).toFixed(3)}); ` +
        `worst max: child ${worst(results[1]!, 'max').toFixed(1)} ms vs in-process ${worst(results[0]!, 'max').toFixed(1)} ms; ` +
        `target p99 ≤ ${TARGET_P99_MS} ms: ${child <= TARGET_P99_MS ? 'met' : 'NOT met'}`,
    );
  } finally {
    await removePrefix(deps, config.buckets.data, `${id}/`);
    await removePrefix(deps, config.buckets.models, `candidates/${id}/`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
