/**
 * Children never outlive their parent: the serving worker, SIGKILLed (so no
 * handler of its runs), takes its two slot processes with it, and their
 * ports are free again.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { killProcess, spawnEntry, stopProcess, waitForLog, type Managed } from '../../src/process/children';
import { startTestSystem, type TestSystem } from '../helpers/system';

const logDir = path.resolve(__dirname, '../../artifacts/test-logs');
let sys: TestSystem | undefined;
let worker: Managed | undefined;

afterAll(async () => {
  if (worker) await stopProcess(worker, 5000);
  await sys?.stop();
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/** PIDs whose parent is `pid` (from /proc). */
function childrenOf(pid: number): number[] {
  return fs
    .readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        // field 4 of /proc/PID/stat is the parent's PID; the command may contain spaces, so split after ')'
        const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid;
      } catch {
        return false;
      }
    })
    .map(Number);
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const portOpen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const c = net.connect(port, '127.0.0.1');
    c.once('connect', () => (c.destroy(), resolve(true)));
    c.once('error', () => resolve(false));
  });

describe('child processes', () => {
  it('slots stop when the serving worker is SIGKILLed', async () => {
    sys = await startTestSystem({ withWorkers: false, slots: false });
    const ports = [await freePort(), await freePort()];
    worker = spawnEntry(
      `serving-${sys.id}`,
      'src/serving/worker.ts',
      ['--with-slots', '--no-model-server', '--slot-log-dir', logDir],
      logDir,
      {
        env: { ...sys.env, SLOT_PORTS: ports.join(',') },
      },
    );
    await waitForLog(worker, /serving worker polling/, 120_000);
    const slots = childrenOf(worker.child.pid!).filter((pid) => fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('slot/main.ts'));
    expect(slots).toHaveLength(2);
    expect(await Promise.all(ports.map(portOpen))).toEqual([true, true]);

    await killProcess(worker);
    const deadline = Date.now() + 30_000;
    while (slots.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(slots.filter(alive)).toEqual([]);
    expect(await Promise.all(ports.map(portOpen))).toEqual([false, false]);
  });
});
