/**
 * Replays recorded histories against the current workflow code: a change
 * that would break runs in flight (non-determinism) fails here. Such a
 * change needs patched(); see record-histories.ts.
 */
import fs from 'node:fs';
import path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { workflowBundle } from '../helpers/temporal';

const dir = path.join(__dirname, 'histories');
const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json'));

describe('replay of recorded histories', () => {
  it('has recorded histories to replay', () => {
    expect(files.length).toBeGreaterThanOrEqual(20);
    // every version of the workflow code that ran is kept, and the rollback too
    for (const v of ['v1', 'v2', 'v3']) expect(files.some((f) => f.endsWith(`-${v}.json`))).toBe(true);
    expect(files).toContain('rollback-rolled-back-v3.json');
    // retention before and after its input schema (patched 'retention-input-schema')
    for (const f of ['retention-pruned-v3.json', 'retention-pruned-v4.json', 'retention-bad-input-v4.json']) expect(files).toContain(f);
  });

  it.each(files)('%s replays without non-determinism', async (file) => {
    const history = historyFromJSON(JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')));
    await expect(Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, file)).resolves.toBeUndefined();
  });
});
