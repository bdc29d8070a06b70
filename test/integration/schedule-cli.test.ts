/** `schedule create` against the real Temporal server: cron time zone, pauseOnFailure, and a clear refusal on an existing schedule. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSchedule } from '../../src/cli/commands/schedule';
import { startTestSystem, type TestSystem } from '../helpers/system';

let sys: TestSystem;
beforeAll(async () => {
  sys = await startTestSystem({ withWorkers: false, slots: false });
});
afterAll(async () => {
  await sys?.stop();
});

describe('schedule create', () => {
  it('sets the time zone and pauseOnFailure, and on an existing schedule says what exists and how to replace it', async () => {
    const scheduleId = `it-${sys.id}-sched-cli`;
    const cfg = { ...sys.config, temporal: { ...sys.config.temporal, scheduleId } };
    const flags = { cron: '0 3 * * *', timeZone: 'Europe/Berlin', catchupWindow: '10m', paused: true, pauseOnFailure: true };
    try {
      await createSchedule(sys.temporal, cfg, flags);
      const d = await sys.temporal.schedule.getHandle(scheduleId).describe();
      expect(d.spec.timezone).toBe('Europe/Berlin');
      expect(d.policies.pauseOnFailure).toBe(true);
      await expect(createSchedule(sys.temporal, cfg, flags)).rejects.toThrow(/already exists and is paused.*--replace/);
      await createSchedule(sys.temporal, cfg, { ...flags, paused: false, replace: true });
      expect((await sys.temporal.schedule.getHandle(scheduleId).describe()).state.paused).toBe(false);
    } finally {
      await sys.temporal.schedule
        .getHandle(scheduleId)
        .delete()
        .catch(() => undefined);
    }
  });
});
