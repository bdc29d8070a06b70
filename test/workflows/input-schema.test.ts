/** The one strict input schema, as the CLI applies it before starting a run (no stack needed). */
import { describe, expect, it } from 'vitest';
import { retentionInput } from '../../src/cli/commands/retention';
import { buildInput, checkInput, retentionMetadata, runMetadata } from '../../src/cli/workflow-input';
import { trainingOptionsSchema } from '../../src/ml/network/options';
import { parseRetentionInput, parseRetrainAndDeployInput, parseRollbackInput, trainingInputSchema } from '../../src/workflows/input-schema';
import { resolveRetentionOptions } from '../../src/workflows/retention-plan';

const input = (json: object) => buildInput({ input: JSON.stringify(json) }, 'serving-q');

describe('workflow input schema', () => {
  it('accepts what the README and the schedule pass', () => {
    expect(
      input({
        data: { mode: 'generate', users: 300, seed: 7 },
        training: { epochs: 4, evalUsers: 300 },
        gate: { tolerance: 0.05, popularityMargin: 0.01 },
      }),
    ).toMatchObject({
      training: { epochs: 4 },
      gate: { tolerance: 0.05, popularityMargin: 0.01 },
      servingTaskQueue: 'serving-q',
    });
    expect(buildInput({ epochs: '3', tolerance: '0.1', readinessTimeout: '60' }, 'q')).toMatchObject({
      training: { epochs: 3 },
      gate: { tolerance: 0.1 },
      readinessTimeoutSeconds: 60,
    });
    expect(parseRetrainAndDeployInput(undefined)).toEqual({});
    expect(parseRollbackInput({ version: 3 })).toEqual({ version: 3 });
  });

  it.each([
    [{ gate: { tolerance: 'x' } }, /--input is invalid: gate\.tolerance: .*expected number, received string/],
    [{ readinessTimeoutSeconds: -1 }, /--input is invalid: readinessTimeoutSeconds: /],
    [{ gate: { tolerence: 0.1 } }, /--input is invalid: gate: .*Unrecognized key.*gate\.tolerence/],
    [{ trainig: {} }, /--input is invalid: \(input\): .*Unrecognized key.*trainig/],
    [{ training: { objective: 'magic' } }, /training\.objective: unknown objective "magic" \(known: linear, implicit, seed/],
    [{ gate: { popularityMargin: -0.1 } }, /gate\.popularityMargin: /],
  ])('refuses %j before starting, naming the field', (bad, message) => {
    expect(() => input(bad)).toThrow(message);
  });

  it('refuses bad rollback input', () => {
    expect(() => parseRollbackInput({ version: -2 })).toThrow(/invalid rollbackDeployment input: version: /);
    expect(() => parseRollbackInput({ versoin: 2 })).toThrow(/Unrecognized key.*versoin/);
  });

  it("uses the ML core's bounds under the workflow's names", () => {
    const ml = trainingOptionsSchema.shape as Record<string, unknown>;
    const renamed: Record<string, string> = { objective: 'mode', evalUsers: 'maxEvalUsers' };
    for (const key of Object.keys(trainingInputSchema.shape).filter((k) => k !== 'heartbeatTimeoutSeconds')) {
      expect(ml, key).toHaveProperty(renamed[key] ?? key);
    }
    // the same limits: what one accepts, the other does
    expect(trainingOptionsSchema.safeParse({ epochs: 1001 }).success).toBe(false);
    expect(trainingInputSchema.safeParse({ epochs: 1001 }).success).toBe(false);
  });

  it('describes the run for the web UI: trigger and objective', () => {
    const meta = runMetadata('schedule', checkInput({ training: { objective: 'seed', epochs: 5 } }, 'x'));
    expect(meta.staticSummary).toBe('retrain & deploy: seed objective, 5 epochs, data history — started by the Temporal Schedule');
    expect(meta.staticDetails).toMatch(/\*\*Trigger:\*\* started by the Temporal Schedule/);
    // no objective: the linear default, as the training activity trains it
    expect(runMetadata('cli', checkInput({}, 'x')).staticSummary).toBe(
      'retrain & deploy: linear objective, data history — started by hand (recommender run)',
    );
  });
});

describe('retention input schema', () => {
  it('applies the defaults and refuses bad or unknown fields, naming them', () => {
    expect(resolveRetentionOptions(parseRetentionInput(undefined))).toEqual({
      keepVersions: 3,
      keepLineage: 3,
      candidatesOlderThanHours: 24,
      stagingOlderThanHours: 24,
      segmentsOlderThanHours: 168,
      dryRun: false,
    });
    expect(() => parseRetentionInput({ segmentsOlderThanHours: -1 })).toThrow(/segmentsOlderThanHours: Too small/);
    expect(resolveRetentionOptions(parseRetentionInput({ keepVersions: 5 })).keepLineage).toBe(5);
    expect(() => parseRetentionInput({ keepVersions: 0 })).toThrow(/invalid retention input: keepVersions: Too small/);
    expect(() => parseRetentionInput({ keepVersions: 2.5 })).toThrow(/keepVersions: Invalid input: expected int/);
    expect(() => parseRetentionInput({ candidatesOlderThanHours: -1 })).toThrow(/candidatesOlderThanHours: Too small/);
    expect(() => parseRetentionInput({ dryRun: 'yes' })).toThrow(/dryRun: Invalid input: expected boolean/);
    expect(() => parseRetentionInput({ keepVersion: 3 })).toThrow(/Unrecognized key: "keepVersion"/);
  });

  it('the CLI names the flag, and describes the run for the web UI', () => {
    expect(retentionInput({ keepVersions: '5', candidatesOlderThanHours: '12', dryRun: true })).toEqual({
      keepVersions: 5,
      candidatesOlderThanHours: 12,
      dryRun: true,
    });
    expect(() => retentionInput({ keepVersions: '0' })).toThrow(/retention options are invalid: --keep-versions: Too small/);
    expect(() => retentionInput({ stagingOlderThanHours: 'soon' })).toThrow(
      /--staging-older-than-hours: Invalid input: expected number, received NaN/,
    );
    const meta = retentionMetadata('schedule', { keepVersions: 2 });
    expect(meta.staticSummary).toBe(
      'retention: keep 2 versions and 2 lineage records per slot (besides the active and standby ones), candidates up to 24 h, staging up to 24 h — started by the Temporal Schedule of retention',
    );
    expect(meta.staticDetails).toMatch(/\*\*Skips\*\* the whole run while a deployment holds the deploy lock/);
  });
});

describe('recommender run --input (the real CLI)', () => {
  it('exits 1 with the field named, before connecting to anything', async () => {
    const { execFile } = await import('node:child_process');
    const path = await import('node:path');
    const root = path.resolve(__dirname, '../..');
    // an address nothing listens on: had the CLI tried to start the run, it would fail differently
    const env = { ...process.env, TEMPORAL_ADDRESS: '127.0.0.1:1' };
    const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = execFile(
        path.join(root, 'node_modules/.bin/tsx'),
        ['src/cli/main.ts', 'run', '--input', '{"gate":{"tolerance":"x"}}'],
        { cwd: root, env },
        (_err, _out, err) => resolve({ code: child.exitCode, stderr: err }),
      );
    });
    expect(code).toBe(1);
    expect(stderr).toMatch(/--input is invalid: gate\.tolerance: .*expected number, received string/);
  }, 60_000);
});
