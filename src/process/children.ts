/**
 * Child processes of the project's own entry points (workers, slots), each
 * logging to its own file, stopped by PID: SIGTERM first (graceful shutdown),
 * SIGKILL after a grace period. Used by the demo and the fault-injection tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** `node --require` this and the child stops when its parent ends, however it ends (see the file). */
export const EXIT_WITH_PARENT_PRELOAD = path.join(__dirname, 'exit-with-parent.cjs');

export interface Managed {
  name: string;
  child: ChildProcess;
  logFile: string;
  /** where this run's output starts in the (appended) log file */
  logOffset: number;
  exited: Promise<number | null>;
}

export interface SpawnOptions {
  env?: NodeJS.ProcessEnv;
  /** the child stops when this process ends, however it ends (default true; see exit-with-parent.cjs) */
  exitWithParent?: boolean;
  /** extra node flags, e.g. --cpu-prof (which NODE_OPTIONS does not allow) */
  nodeArgs?: string[];
}

/** True when this module runs as tsc output (dist/), i.e. in the production image where tsx is not installed. */
const COMPILED = __filename.endsWith('.js');

/**
 * The node arguments that run `entry` (a path under src/, e.g. src/worker.ts,
 * or under bench/): its compiled form under dist/ when this code is compiled
 * itself, else the TypeScript source under tsx's loader (development). The
 * benchmarks are not compiled, so a bench/ entry runs from source only.
 */
export function entryCommand(entry: string): string[] {
  const match = /^(src|bench)\/.+\.ts$/.exec(entry);
  if (!match) throw new Error(`entry point ${entry}: expected a path src/….ts or bench/….ts`);
  if (COMPILED) {
    if (match[1] === 'bench') throw new Error(`entry point ${entry}: benchmarks run from source (tsx), not from dist/`);
    return [path.join(REPO_ROOT, 'dist', entry.slice('src/'.length).replace(/\.ts$/, '.js'))];
  }
  return ['--import', 'tsx', path.join(REPO_ROOT, entry)];
}

/** Runs an entry point of this repo (see entryCommand) as a child logging to `<logDir>/<name>.log`. */
export function spawnEntry(name: string, entry: string, args: string[], logDir: string, options: SpawnOptions = {}): Managed {
  const { env = process.env, exitWithParent = true, nodeArgs = [] } = options;
  fs.mkdirSync(logDir, { recursive: true });
  const logFile = path.join(logDir, `${name}.log`);
  const logOffset = fs.existsSync(logFile) ? fs.statSync(logFile).size : 0;
  const out = fs.openSync(logFile, 'a');
  const preload = exitWithParent ? ['--require', EXIT_WITH_PARENT_PRELOAD] : [];
  const command = entryCommand(entry);
  const child = spawn(process.execPath, [...nodeArgs, ...preload, ...command, ...args], {
    cwd: REPO_ROOT,
    env: { TF_CPP_MIN_LOG_LEVEL: '2', ...env },
    stdio: exitWithParent ? ['ignore', out, out, 'ipc'] : ['ignore', out, out],
  });
  // our end of the channel must not keep this process alive either
  child.channel?.unref();
  fs.closeSync(out);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { name, child, logFile, logOffset, exited };
}

export async function stopProcess(p: Managed, graceMs = 25_000): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill('SIGTERM');
  const timer = setTimeout(() => p.child.kill('SIGKILL'), graceMs);
  await p.exited;
  clearTimeout(timer);
}

export function killProcess(p: Managed): Promise<number | null> {
  p.child.kill('SIGKILL');
  return p.exited;
}

/** Waits until `pattern` appears in the process's log (e.g. a "ready" line). */
export async function waitForLog(p: Managed, pattern: RegExp, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const text = fs.existsSync(p.logFile) ? fs.readFileSync(p.logFile).subarray(p.logOffset).toString('utf8') : '';
    if (pattern.test(text)) return;
    if (p.child.exitCode !== null)
      throw new Error(`${p.name} exited (code ${p.child.exitCode}) before logging ${pattern}; see ${p.logFile}`);
    if (Date.now() > end) throw new Error(`${p.name} did not log ${pattern} within ${timeoutMs} ms; see ${p.logFile}`);
    await sleep(200);
  }
}
