import { defineConfig } from 'vitest/config';

/** The chaos suite's own unit tests (its verifiers); the suite itself runs with `npm run chaos`. */
export default defineConfig({
  test: {
    include: ['test/chaos/**/*.test.ts'],
    environment: 'node',
  },
});
