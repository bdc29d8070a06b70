/** Processes seen through /proc (Linux): the training worker's training children, and whether a PID still lives; and the polling waits of the tests. */
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** Live (not zombie) children of `parent` whose command line runs the training child (src/training/child.ts). */
export function trainingChildrenOf(parent: number): number[] {
  const found: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(ppid) !== parent || state === 'Z') continue;
      if (fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('training/child')) found.push(Number(entry));
    } catch {
      // the process ended while being read
    }
  }
  return found;
}

export function alive(pid: number): boolean {
  try {
    return !fs.readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
  } catch {
    return false;
  }
}

/** Polls `probe` every 25 ms until it gives a value. */
export async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 60_000): Promise<T> {
  for (const end = Date.now() + timeoutMs; Date.now() < end; await sleep(25)) {
    const value = probe();
    if (value !== undefined) return value;
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Reads until `ok` holds (every 200 ms); the last value read is in the timeout's error. */
export async function until<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`${what} not reached within ${timeoutMs} ms: ${JSON.stringify(v)}`);
    await sleep(200);
  }
}
