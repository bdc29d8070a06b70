/**
 * Graceful stop of a long-running process on SIGINT/SIGTERM: close it once
 * and exit 0, or exit 1 when closing fails or a second signal comes before
 * it is done.
 */
type LogFn = (level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;

export function closeOnSignals(close: () => Promise<void>, log: LogFn): void {
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
        log('error', 'shutdown failed', { error: err instanceof Error ? err.message : String(err) });
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
