/** Drives deploy/local/stack.sh from TypeScript (the demo and the fault tests). */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from './children';

export const STACK_COMPONENTS = ['minio', 'kafka', 'temporal'] as const;
export type StackComponent = (typeof STACK_COMPONENTS)[number];

function stack(args: string[], inherit = false): { code: number; output: string } {
  const r = spawnSync('bash', [path.join(REPO_ROOT, 'deploy/local/stack.sh'), ...args], {
    encoding: 'utf8',
    stdio: inherit ? 'inherit' : 'pipe',
  });
  return { code: r.status ?? 1, output: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

export function isUp(component: StackComponent): boolean {
  return stack(['status', component]).code === 0;
}

export function startStack(components: readonly StackComponent[] = STACK_COMPONENTS, inherit = false): void {
  const r = stack(['start', ...components], inherit);
  if (r.code !== 0) throw new Error(`starting ${components.join(', ')} failed:\n${r.output}`);
}

export function stopStack(components: readonly StackComponent[] = STACK_COMPONENTS, inherit = false): void {
  const r = stack(['stop', ...components], inherit);
  if (r.code !== 0) throw new Error(`stopping ${components.join(', ')} failed:\n${r.output}`);
}
