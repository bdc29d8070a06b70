/**
 * The Temporal CLI and tctl the local stack built (deploy/local/components/temporal.sh),
 * and the time-skipping test server's launcher (deploy/local/temporal-test-server.sh).
 */
import { execFile } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const stackHome =
  process.env.RECO_STACK_HOME ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'recommender-stack');

export const TEMPORAL_BIN = path.join(stackHome, 'bin', 'temporal');
export const TCTL_BIN = path.join(stackHome, 'bin', 'tctl');
export const TEMPORAL_TEST_SERVER_BIN = path.join(stackHome, 'bin', 'temporal-test-server');

export async function run(bin: string, args: string[]): Promise<string> {
  const { stdout, stderr } = await promisify(execFile)(bin, args, { timeout: 60_000 });
  return `${stdout}${stderr}`;
}
