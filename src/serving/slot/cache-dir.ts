/**
 * A slot's local cache of downloaded versions:
 * `<tmp>/recommender-slots/<slot>/<pid>-<uuid>/`. At start a slot removes the
 * directories of its slot left by processes that no longer run (crashed or
 * killed slots never removed theirs), and any of an older naming.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

const root = (slot: string): string => path.join(os.tmpdir(), 'recommender-slots', slot);

export function slotCacheDir(slot: string): string {
  return path.join(root(slot), `${process.pid}-${randomUUID()}`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes cache directories of `slot` whose owning process is gone; returns their paths. */
export async function cleanStaleCacheDirs(slot: string): Promise<string[]> {
  const dir = root(slot);
  const entries = await fs.readdir(dir).catch(() => [] as string[]);
  const removed: string[] = [];
  for (const name of entries) {
    const m = /^(\d+)-/.exec(name);
    const pid = m ? Number(m[1]) : undefined;
    if (pid !== undefined && (pid === process.pid || alive(pid))) continue;
    await fs.rm(path.join(dir, name), { recursive: true, force: true });
    removed.push(path.join(dir, name));
  }
  return removed;
}
