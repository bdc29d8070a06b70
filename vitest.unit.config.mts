import { defineConfig } from 'vitest/config';
import base from './vitest.config.mts';

// `npm run test:unit`: the offline tier for everyday work — no Temporal dev
// server, Kafka or MinIO, only Node, the native TensorFlow backend and
// Temporal's time-skipping test server (started in-process by the workflow
// tests; `setup.sh --for-unit` installs it). Chosen by folder: a test that
// needs no server and runs in seconds goes into one of these.
// (Built from the base's test options rather than mergeConfig, which would
// concatenate the include lists.)
const UNIT_FOLDERS = ['test/unit', 'test/messaging', 'test/workflows'];

export default defineConfig({
  test: {
    ...base.test,
    include: UNIT_FOLDERS.map((folder) => `${folder}/**/*.test.ts`),
  },
});
