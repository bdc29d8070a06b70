import { defineConfig } from 'vitest/config';
import base from './vitest.config.mts';

// `npm run test:unit`: the offline tier for everyday work — no Temporal
// server, Kafka or MinIO, only Node and the native TensorFlow backend.
// (Built from the base's test options rather than mergeConfig, which would
// concatenate the include lists.)
export default defineConfig({
  test: {
    ...base.test,
    include: [
      'test/unit/**/*.test.ts',
      'test/messaging/**/*.test.ts',
      'test/workflows/replay.test.ts',
      'test/ml/dataset.test.ts',
      'test/ml/ratings.test.ts',
      'test/ml/generate.test.ts',
      'test/savedmodel/crc32c.test.ts',
      'test/savedmodel/table.test.ts',
    ],
  },
});
