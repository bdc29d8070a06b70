/**
 * Graceful stop of a long-running process on SIGINT/SIGTERM: close it once
 * and exit 0, or exit 1 when closing fails or a second signal comes before
 * it is done.
 */
import { errorText, type Log } from './json-log';

export function closeOnSignals(close: () => Promise<void>, log: Log): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      log('warn', `second ${signal}: exiting without waiting`);
      process.exit(1);
    }
    stopping = true;
    log('info', `${signal}: shutting down`);
    close().then(
      () => process.exit(0),
      (err: unknown) => {
        log('error', 'shutdown failed', { error: errorText(err) });
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
