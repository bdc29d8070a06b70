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
    env: { TF_CPP_MIN_LOG_LEVEL: '2' },
    setupFiles: ['test/setup.ts'],
  },
});
