/**
 * The numpy anchor of bench:ease: a Python venv with the pinned numpy from
 * PyPI (requirements.txt) in the stack's cache (next to the Keras venv), and
 * a run of ease.py on the pairs the benchmark writes. Reports "not
 * available" with a reason instead of throwing.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { PurchaseHistory } from '../../src/ml';
import { stackHome, type Availability } from '../keras/anchor';

const execFileAsync = promisify(execFile);
const REQUIREMENTS = path.join(__dirname, 'requirements.txt');
const SCRIPT = path.join(__dirname, 'ease.py');
export const NUMPY_VERSION = '2.4.6';

export interface NumpyRun {
  seconds: number[];
  numpy: string;
  sumAbs: number;
}

/** The venv's python with the pinned numpy, creating the venv on first use. */
export async function numpyPython(log: (line: string) => void): Promise<Availability> {
  const venv = path.join(stackHome(), 'venv-numpy');
  const python = path.join(venv, 'bin', 'python');
  const version = async () => {
    if (!existsSync(python)) return undefined;
    try {
      return (await execFileAsync(python, ['-c', 'import numpy; print(numpy.__version__)'])).stdout.trim();
    } catch {
      return undefined;
    }
  };
  if ((await version()) === NUMPY_VERSION) return { python };
  try {
    if (!existsSync(python)) {
      log(`creating the numpy venv ${venv} (first run only)`);
      await execFileAsync('python3', ['-m', 'venv', venv]);
    }
    log(`installing ${path.relative(process.cwd(), REQUIREMENTS)} into it from PyPI`);
    await execFileAsync(python, ['-m', 'pip', 'install', '--disable-pip-version-check', '-q', '-r', REQUIREMENTS]);
  } catch (error) {
    return { unavailable: `numpy ${NUMPY_VERSION} could not be installed (${String(error).split('\n')[0]})` };
  }
  const after = await version();
  return after === NUMPY_VERSION
    ? { python }
    : { unavailable: `the numpy venv imports numpy ${after ?? 'not at all'}, expected ${NUMPY_VERSION}` };
}

/** Writes the history's (customer, product) pairs as little-endian int32 arrays plus meta.json, what ease.py reads. */
export async function writePairs(dir: string, history: PurchaseHistory): Promise<void> {
  if (os.endianness() !== 'LE') throw new Error('ease.py reads little-endian arrays');
  const users = new Int32Array(history.products.length);
  for (let u = 0; u < history.userRows; u++) users.fill(u, history.userOffsets[u], history.userOffsets[u + 1]);
  await writeFile(path.join(dir, 'users.i32'), Buffer.from(users.buffer));
  await writeFile(
    path.join(dir, 'products.i32'),
    Buffer.from(history.products.buffer, history.products.byteOffset, history.products.byteLength),
  );
  await writeFile(path.join(dir, 'meta.json'), JSON.stringify({ userRows: history.userRows, productRows: history.productRows }));
}

export async function runNumpyEase(python: string, dir: string, lambda: number, repeat: number): Promise<NumpyRun> {
  const { stdout } = await execFileAsync(python, [SCRIPT, '--data', dir, '--lambda', String(lambda), '--repeat', String(repeat)], {
    maxBuffer: 1 << 20,
  });
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as NumpyRun;
}
