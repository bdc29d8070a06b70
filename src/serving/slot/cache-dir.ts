/**
 * A slot's local cache of downloaded versions:
 * `<tmp>/recommender-slots/<slot>/<pid>-<uuid>/`. At start a slot removes the
 * directories of its slot left by processes that no longer run (crashed or
 * killed slots never removed theirs), and any of an older naming. A
 * directory named with this process's own pid but not made by it is stale
 * too: in a container every slot is PID 1, so an earlier container's
 * directories on a kept volume carry the same pid (issue 24, item 12).
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

const root = (slot: string): string => path.join(os.tmpdir(), 'recommender-slots', slot);

/** The cache directories this process made and has not released. */
const ownDirs = new Set<string>();

/** A new cache directory path for `slot`, owned by this process until released. */
export function slotCacheDir(slot: string): string {
  const dir = path.join(root(slot), `${process.pid}-${randomUUID()}`);
  ownDirs.add(dir);
  return dir;
}

/** The directory is no longer this process's (removed by its manager). */
export function releaseCacheDir(dir: string): void {
  ownDirs.delete(dir);
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
    const full = path.join(dir, name);
    if (ownDirs.has(full)) continue;
    // another live process's; this pid's only when this process made it (checked above)
    if (pid !== undefined && pid !== process.pid && alive(pid)) continue;
    await fs.rm(full, { recursive: true, force: true });
    removed.push(full);
  }
  return removed;
}
