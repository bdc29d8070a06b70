/**
 * The Keras anchor of bench:train: a Python venv with the pinned TensorFlow
 * from PyPI (requirements.txt), and a run of seed_recipe.py on examples
 * written by the benchmark. Everything here reports "not available" with a
 * reason instead of throwing, so the benchmark still prints its own figures
 * on a machine without Python TensorFlow.
 */
import { execFile, spawn } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { ExampleSet } from '../../src/ml';

const execFileAsync = promisify(execFile);

const HERE = __dirname;
const REQUIREMENTS = path.join(HERE, 'requirements.txt');
const SCRIPT = path.join(HERE, 'seed_recipe.py');
/** the TensorFlow version requirements.txt pins (also the one tfjs-node is linked against, deploy/local/lib.sh) */
export const KERAS_TENSORFLOW_VERSION = '2.21.0';

/** Same cache as deploy/local/lib.sh (STACK_HOME); the venv never goes into the repo. */
export function stackHome(): string {
  return (
    process.env['RECO_STACK_HOME'] ?? path.join(process.env['XDG_CACHE_HOME'] ?? path.join(os.homedir(), '.cache'), 'recommender-stack')
  );
}

export interface KerasRecipe {
  userRows: number;
  productRows: number;
  embeddingDim: number;
  hiddenUnits: number;
  dropout: number;
  learningRate: number;
  batchSize: number;
  epochs: number;
  seed: number;
}

export interface KerasRun {
  examplesPerSecond: number;
  seconds: number;
  trainExamples: number;
  validationExamples: number;
  loss: number[];
  valLoss: number[];
  tensorflow: string;
  keras: string;
  threads: number;
}

export type Availability = { python: string } | { unavailable: string };

/**
 * The venv's python with TensorFlow importable, creating the venv on first
 * use (python3 -m venv + pip install -r requirements.txt; pip looks in the
 * stack's wheel cache first, where deploy/local/tfjs-native.sh keeps the
 * tensorflow-cpu wheel).
 */
export async function kerasPython(log: (line: string) => void): Promise<Availability> {
  const venv = path.join(stackHome(), 'venv-keras');
  const python = path.join(venv, 'bin', 'python');
  const installed = await tensorflowVersion(python);
  if (installed === KERAS_TENSORFLOW_VERSION) return { python };

  const pipLog = path.join(stackHome(), 'logs', 'pip-keras.log');
  try {
    await mkdir(path.dirname(pipLog), { recursive: true });
    if (!existsSync(python)) {
      log(`creating the Keras venv ${venv} (first run only)`);
      await execFileAsync('python3', ['-m', 'venv', venv]);
    }
    log(
      `installing ${path.relative(process.cwd(), REQUIREMENTS)} into it from PyPI (tensorflow-cpu ${KERAS_TENSORFLOW_VERSION}, ~600 MB; log ${pipLog})`,
    );
    const wheels = path.join(stackHome(), 'wheels');
    const findLinks = existsSync(wheels) ? ['--find-links', wheels] : [];
    await run(python, ['-m', 'pip', 'install', '--disable-pip-version-check', ...findLinks, '-r', REQUIREMENTS], pipLog);
  } catch (error) {
    return { unavailable: `Python TensorFlow ${KERAS_TENSORFLOW_VERSION} could not be installed (${firstLine(error)}; see ${pipLog})` };
  }
  const after = await tensorflowVersion(python);
  if (after !== KERAS_TENSORFLOW_VERSION)
    return { unavailable: `the Keras venv imports TensorFlow ${after ?? 'not at all'}, expected ${KERAS_TENSORFLOW_VERSION}` };
  return { python };
}

/** Writes the examples as raw little-endian arrays plus meta.json, the format seed_recipe.py reads. */
export async function writeKerasInputs(dir: string, train: ExampleSet, validation: ExampleSet, recipe: KerasRecipe): Promise<void> {
  if (os.endianness() !== 'LE') throw new Error('seed_recipe.py reads little-endian arrays');
  const files: [string, Int32Array | Float32Array][] = [
    ['train_users.i32', train.users],
    ['train_products.i32', train.products],
    ['train_labels.f32', train.labels],
    ['val_users.i32', validation.users],
    ['val_products.i32', validation.products],
    ['val_labels.f32', validation.labels],
  ];
  for (const [name, values] of files)
    await writeFile(path.join(dir, name), Buffer.from(values.buffer, values.byteOffset, values.byteLength));
  await writeFile(path.join(dir, 'meta.json'), JSON.stringify(recipe));
}

/** Runs seed_recipe.py; its stderr (TensorFlow's logging) is appended to the stack's logs/keras-seed-recipe.log. */
export async function runKerasSeedRecipe(python: string, dir: string, threads: number): Promise<KerasRun> {
  const logFile = path.join(stackHome(), 'logs', 'keras-seed-recipe.log');
  await mkdir(path.dirname(logFile), { recursive: true });
  const stdout = await run(python, [SCRIPT, '--data', dir, '--threads', String(threads)], logFile);
  const last = stdout.trim().split('\n').at(-1) ?? '';
  try {
    return JSON.parse(last) as KerasRun;
  } catch {
    throw new Error(`seed_recipe.py printed no result line (last line: ${last.slice(0, 200)}); see ${logFile}`);
  }
}

async function tensorflowVersion(python: string): Promise<string | undefined> {
  if (!existsSync(python)) return undefined;
  try {
    const { stdout } = await execFileAsync(python, ['-c', 'import tensorflow, keras; print(tensorflow.__version__)'], {
      env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3' },
    });
    return stdout.trim().split('\n').at(-1);
  } catch {
    return undefined;
  }
}

/** Runs a command, collecting stdout and appending stderr to a log file; rejects on a non-zero exit. */
function run(command: string, args: string[], logFile: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const log = createWriteStream(logFile, { flags: 'a' });
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2' } });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      log.write(chunk);
    });
    child.stderr.pipe(log, { end: false });
    child.on('error', (error) => {
      log.end();
      reject(error);
    });
    child.on('close', (code) => {
      log.end();
      if (code === 0) resolve(stdout);
      else reject(new Error(`${path.basename(command)} ${args.slice(0, 2).join(' ')} exited with ${code}`));
    });
  });
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0];
}
