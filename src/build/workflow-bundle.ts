/**
 * Writes the prebuilt workflow bundle of the production build:
 *   node dist/build/workflow-bundle.js   (run by `npm run build`, after tsc)
 * The training worker loads it with `workflowBundle: { codePath }` instead of
 * webpacking src/workflows at every start (seconds of CPU and ~100 MB of
 * memory per worker start); see workflowSource() in src/worker.ts.
 */
import fs from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';

export const WORKFLOW_BUNDLE_FILE = 'workflow-bundle.js';

async function main(): Promise<void> {
  const dist = path.resolve(__dirname, '..');
  const started = Date.now();
  const { code } = await bundleWorkflowCode({ workflowsPath: require.resolve('../workflows') });
  const out = path.join(dist, WORKFLOW_BUNDLE_FILE);
  // write then rename: a worker never sees a half-written bundle
  fs.writeFileSync(`${out}.tmp`, code);
  fs.renameSync(`${out}.tmp`, out);
  console.log(`workflow bundle ${path.relative(process.cwd(), out)}: ${(code.length / 1024).toFixed(0)} KiB in ${Date.now() - started} ms`);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
