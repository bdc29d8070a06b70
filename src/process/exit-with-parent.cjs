// Preloaded (`node --require`) into every child that spawnEntry starts: when
// the parent goes away — even by SIGKILL, which runs no handler of its — the
// IPC channel closes, and the child shuts itself down as on SIGTERM (its own
// graceful path), so that no slot outlives its serving worker.
// Plain CommonJS, not TypeScript: Node hands preloads to worker threads too
// (the Temporal worker's workflow thread), where tsx's loader is not active;
// there process.channel does not exist and this does nothing.
'use strict';
if (process.channel) {
  // The channel exists only to notice the parent's end: it must not keep
  // the child alive by itself.
  process.channel.unref();
  process.once('disconnect', () => {
    process.kill(process.pid, 'SIGTERM');
    // a child that ignores SIGTERM still goes, a little later
    setTimeout(() => process.exit(1), 15_000).unref();
  });
}
