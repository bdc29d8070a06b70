/** Test helpers for workers on the real local Temporal dev server. */
import fs from 'node:fs/promises';
import path from 'node:path';
import { createHash, randomUUID } from 'node:crypto';
import { bundleWorkflowCode, NativeConnection, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { loadConfig } from '../../src/config';
import { HEARTBEAT_THROTTLE } from '../../src/temporal/heartbeat-throttle';

export const testConfig = loadConfig();

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;

/**
 * The project's workflow bundle. Webpacking src/workflows takes seconds of
 * CPU, so the bundle is kept on disk under a hash of what it is built from
 * (every file of src/ and the lockfile) and built only by the first test file
 * that needs it after a change.
 */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= cachedBundle();
  return bundle;
}

const repoRoot = path.resolve(__dirname, '../..');
// one folder per checkout: worktrees sharing node_modules do not evict each other's bundle
const cacheDir = path.join(
  repoRoot,
  'node_modules/.cache/recommender-workflow-bundle',
  createHash('sha256').update(repoRoot).digest('hex').slice(0, 12),
);

async function cachedBundle(): Promise<WorkflowBundleWithSourceMap> {
  const file = path.join(cacheDir, `${await sourceHash()}.json`);
  const cached = await fs.readFile(file, 'utf8').catch(() => undefined);
  if (cached) return JSON.parse(cached) as WorkflowBundleWithSourceMap;
  const built = await bundleWorkflowCode({ workflowsPath: path.join(repoRoot, 'src/workflows/index.ts'), logger: quietLogger });
  await storeBundle(file, built).catch(() => undefined); // best effort: the next file builds it again
  return built;
}

/** Writes then renames (a reader never sees half a bundle); older bundles of this checkout go. */
async function storeBundle(file: string, built: WorkflowBundleWithSourceMap): Promise<void> {
  await fs.mkdir(cacheDir, { recursive: true });
  for (const old of await fs.readdir(cacheDir)) if (old.endsWith('.json')) await fs.rm(path.join(cacheDir, old), { force: true });
  await fs.writeFile(`${file}.${process.pid}.tmp`, JSON.stringify(built));
  await fs.rename(`${file}.${process.pid}.tmp`, file);
}

/** What the bundle is built from: every file of src/ (path and bytes) and the lockfile. */
async function sourceHash(): Promise<string> {
  const hash = createHash('sha256');
  const walk = async (dir: string): Promise<string[]> => {
    const files: string[] = [];
    for (const e of await fs.readdir(dir, { withFileTypes: true })) {
      files.push(...(e.isDirectory() ? await walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));
    }
    return files;
  };
  const files = (await walk(path.join(repoRoot, 'src'))).sort();
  for (const f of [...files, path.join(repoRoot, 'package-lock.json')]) hash.update(f).update(await fs.readFile(f));
  return hash.digest('hex').slice(0, 32);
}

const quietLogger = {
  info: () => undefined,
  warn: () => undefined,
  error: console.error,
  debug: () => undefined,
  trace: () => undefined,
  log: () => undefined,
};

export function uniqueQueue(name: string): string {
  return `${name}-${randomUUID()}`;
}

export async function startWorker(
  taskQueue: string,
  activities: object,
  withWorkflows = true,
): Promise<{ worker: Worker; running: Promise<void>; stop(): Promise<void> }> {
  const connection = await NativeConnection.connect({ address: testConfig.temporal.address });
  const worker = await Worker.create({
    connection,
    namespace: testConfig.temporal.namespace,
    taskQueue,
    activities,
    ...HEARTBEAT_THROTTLE,
    ...(withWorkflows ? { workflowBundle: await workflowBundle() } : {}),
  });
  const running = worker.run();
  return {
    worker,
    running,
    stop: async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
      await connection.close();
    },
  };
}
