// Quiet the Temporal worker's INFO logs in tests; warnings and errors still
// show, through console so that vitest shows them only for a test that
// failed (`silent: 'passed-only'`): the SDK's default log function writes to
// process.stderr directly, which printed every expected "Workflow failed"
// warning of a passing run.
import { DefaultLogger, Runtime } from '@temporalio/worker';

Runtime.install({
  logger: new DefaultLogger('WARN', ({ level, message, meta }) => {
    const line = `[temporal ${level}] ${message}`;
    if (level === 'ERROR') console.error(line, meta ?? '');
    else console.warn(line, meta ?? '');
  }),
  // the SDK core's own (Rust) warnings, e.g. an activity completing after its run ended, the same way
  telemetryOptions: { logging: { filter: { core: 'WARN', other: 'WARN' }, forward: {} } },
});
