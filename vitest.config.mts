import { defineConfig } from 'vitest/config';

// Tests talk to the real local stack (Temporal, Kafka, MinIO) and the native
// TensorFlow backend: run files one at a time on a two-core machine, with
// timeouts sized for real servers rather than mocks.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 180_000,
    reporters: ['default'],
    // Console output (e.g. kafkajs' expected ERROR lines while a fault test
    // restarts the broker) is shown only for tests that fail.
    silent: 'passed-only',
    env: {
      TF_CPP_MIN_LOG_LEVEL: '2',
      // The stack's test namespace (deploy/local/components/temporal.sh): the
      // user's `default` namespace shows only the user's own runs.
      TEMPORAL_NAMESPACE: 'recommender-test',
    },
    setupFiles: ['test/setup.ts'],
  },
});
