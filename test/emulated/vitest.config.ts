// Vitest configuration for runs on an emulated CPU (scripts/ci/emulated.sh): the project's own, with longer
// timeouts (qemu-user runs Node 5 to 20 times slower, a child process takes seconds to start) and a setup file that
// lets the event loop turn between tests.
import { fileURLToPath } from 'node:url';
import { defineConfig, mergeConfig } from 'vitest/config';
import base from '../../vitest.config.js';

export default mergeConfig(
  base,
  defineConfig({
    root: fileURLToPath(new URL('../..', import.meta.url)),
    test: {
      setupFiles: ['test/emulated/yield-between-tests.ts'],
      testTimeout: 180_000,
      hookTimeout: 180_000,
      teardownTimeout: 60_000,
    },
  }),
);
